/**
 * Redaction rules through the API: read a service's rules and history, and change them. A change runs in this
 * order: the service, visible to the caller's project only (else SERVICE_NOT_FOUND, as for policies) -> the rules
 * validated (INVALID_RULES, naming each field) -> in ONE transaction holding the rules row FOR UPDATE: the
 * version check (VERSION_CONFLICT) -> the diff (nothing changed: no revision) -> revision + rules -> commit.
 * A refusal changes nothing. The ingester picks a change up within its refresh interval (redaction.watcher.ts).
 */
import { actorName, Principal } from '../tenancy/principal';
import type { TenancyService } from '../tenancy/tenancy.service';
import { RedactionError, RedactionErrorCode, RedactionUserError } from './redaction.errors';
import type { RedactionRepository, RuleRevisionRow, RuleSetRow } from './redaction.repository';
import { diffRules, NO_REDACTION, RedactionRules, RuleChange, rulesFromStored, validateRules } from './redaction.rules';

export interface RuleSetView { serviceId: string; version: number; rules: RedactionRules; updatedAt: Date | null; updatedBy: string | null }
export interface RuleRevisionView { id: string; version: number; actor: string; reason: string | null; rules: RedactionRules; changes: RuleChange[]; createdAt: Date }

export interface SetRulesRequest {
  principal: Principal; serviceId: string;
  rules: { dropParameters: unknown; maskStringLiterals: unknown; maskNumericLiterals: unknown; patterns: unknown };
  reason?: string | null; expectedVersion?: number | null;
}
export interface SetRulesResult { ruleSet: RuleSetView | null; revision: RuleRevisionView | null; userErrors: RedactionUserError[] }

const viewOf = (row: RuleSetRow): RuleSetView => ({ serviceId: row.serviceId, version: row.version, rules: rulesFromStored(row.rules),
  updatedAt: row.version === 0 ? null : row.updatedAt, updatedBy: row.version === 0 ? null : row.updatedBy });
const revisionOf = (r: RuleRevisionRow): RuleRevisionView => ({ id: r.id, version: r.version, actor: r.actor, reason: r.reason,
  rules: rulesFromStored(r.rules), changes: r.changes, createdAt: r.createdAt });

export class RedactionService {
  constructor(private readonly tenancy: TenancyService, private readonly repo: RedactionRepository) {}

  /** The caller's service's rules: version 0 and no redaction before the first change. */
  async ruleSet(principal: Principal, serviceId: string): Promise<RuleSetView> {
    const service = await this.tenancy.serviceFor(principal, serviceId);
    const row = await this.repo.find(service.id);
    return row ? viewOf(row) : { serviceId: service.id, version: 0, rules: NO_REDACTION, updatedAt: null, updatedBy: null };
  }

  /** A page of a service's revisions, newest first (the service was checked by ruleSet, whose field this is). */
  async history(serviceId: string, first: number, beforeVersion: number | null) {
    const page = await this.repo.revisions(serviceId, first, beforeVersion);
    return { ...page, rows: page.rows.map(revisionOf) };
  }

  async set(req: SetRulesRequest): Promise<SetRulesResult> {
    const service = await this.tenancy.serviceFor(req.principal, req.serviceId);
    const valid = validateRules(req.rules);
    if (!valid.ok) return { ruleSet: null, revision: null, userErrors: valid.errors };
    try {
      return await this.repo.transaction(async (tx) => {
        const current = await this.repo.lock(tx, service.id, NO_REDACTION);
        if (req.expectedVersion != null && req.expectedVersion !== current.version) {
          throw new RedactionError(RedactionErrorCode.VERSION_CONFLICT,
            `the rules are at version ${current.version}, not ${req.expectedVersion}: read them again`, { field: 'expectedVersion' });
        }
        const changes = diffRules(rulesFromStored(current.rules), valid.rules);
        if (changes.length === 0) return { ruleSet: viewOf(current), revision: null, userErrors: [] };
        const { ruleSet, revision } = await this.repo.appendRevision(tx, current, { actor: actorName(req.principal),
          actorTokenId: req.principal.tokenId, reason: req.reason ?? null, rules: valid.rules, changes });
        return { ruleSet: viewOf(ruleSet), revision: revisionOf(revision), userErrors: [] };
      });
    } catch (err) {
      if (err instanceof RedactionError && err.code === RedactionErrorCode.VERSION_CONFLICT) {
        return { ruleSet: null, revision: null, userErrors: [{ code: err.code, message: err.message, field: ['input', 'expectedVersion'] }] };
      }
      throw err;
    }
  }
}
