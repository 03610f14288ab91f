/**
 * The ingester's view of its service's rules: loaded before the first record is read, then the version is read
 * again (one indexed primary-key lookup) at most every `refreshMs` as records are read, and the rules reloaded
 * when it moved. A change made through the API thus applies to records read from at most `refreshMs` after it
 * committed (README, "Redaction at ingest"). A failed read throws: the ingest pass fails and is retried, so nothing
 * is indexed under rules older than the interval. Stored rules this version cannot read throw RULES_UNREADABLE.
 */
import type { RedactionRepository } from './redaction.repository';
import { Redactor } from './redactor';
import { NO_REDACTION, rulesFromStored } from './redaction.rules';

/** How often the ingester reads the rules' version by default (ms). */
export const DEFAULT_REDACTION_REFRESH_MS = 5000;

/** What the ingest loop asks before it redacts what it read: the rules to apply now. */
export interface RedactionSource { current(): Promise<Redactor> }

export class RedactionWatcher implements RedactionSource {
  private redactor: Redactor | null = null;
  private checkedAt = 0;

  constructor(private readonly repo: Pick<RedactionRepository, 'find' | 'version'>, private readonly serviceId: string,
    private readonly refreshMs = DEFAULT_REDACTION_REFRESH_MS, private readonly now: () => number = Date.now) {}

  async current(): Promise<Redactor> {
    const t = this.now();
    if (this.redactor && t - this.checkedAt < this.refreshMs) return this.redactor;
    if (!this.redactor || (await this.repo.version(this.serviceId)) !== this.redactor.version) {
      const row = await this.repo.find(this.serviceId);
      this.redactor = row ? new Redactor(rulesFromStored(row.rules), row.version) : new Redactor(NO_REDACTION, 0);
    }
    this.checkedAt = t;
    return this.redactor;
  }
}
