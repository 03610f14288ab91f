/**
 * <pga-live-tail>: a service's events as they are indexed (the auditEventTail subscription over Server-Sent Events at
 * /graphql/stream, graphql-sse's client), newest on top, the last 200 kept. The gateway ends a tail after its
 * lifetime or idle time with SUBSCRIPTION_ENDED and a cursor: Resume continues exactly after the last event seen.
 */
import { stringifyDocument } from '@urql/core';
import { createClient, type Client as SseClient } from 'graphql-sse';
import { css, html, LitElement } from 'lit';
import { graphql } from '../gql';
import type { AuditEventFilter, LiveTailSubscription } from '../gql/graphql';

const TAIL = graphql(`
  subscription LiveTail($serviceId: ID!, $filter: AuditEventFilter, $after: String) {
    auditEventTail(serviceId: $serviceId, filter: $filter, after: $after) {
      cursor
      event { id timestamp class command objectName statement user database }
    }
  }
`);

type Item = LiveTailSubscription['auditEventTail'];
const KEEP = 200;

export class PgaLiveTail extends LitElement {
  static override properties = { token: { attribute: false }, serviceId: {}, filter: { attribute: false }, items: { state: true },
    status: { state: true }, running: { state: true } };
  token = '';
  serviceId = '';
  filter: AuditEventFilter = {};
  items: Item[] = [];
  status = '';
  running = false;
  private cursor: string | null = null;
  private stop: (() => void) | null = null;
  private sse: SseClient | null = null;

  static override styles = css`
    :host { display: block; margin: 1rem 0; }
    button { font: inherit; padding: 0.35rem 0.8rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer; }
    button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    ol { list-style: none; margin: 0.5rem 0 0; padding: 0; max-height: 20rem; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
    li { padding: 0.3rem 0.6rem; border-bottom: 1px solid var(--line); font-size: 0.9rem; }
    code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-word; }
    .muted { color: var(--muted); }
  `;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.end('');
  }

  private start(): void {
    this.sse ??= createClient({ url: '/graphql/stream', headers: () => ({ authorization: `Bearer ${this.token}` }), retryAttempts: 0 });
    this.running = true;
    this.status = 'Listening: events appear a few seconds after they are indexed.';
    this.stop = this.sse.subscribe<LiveTailSubscription>(
      { query: stringifyDocument(TAIL), variables: { serviceId: this.serviceId, filter: this.filter, after: this.cursor } },
      {
        next: (result) => {
          const ended = result.errors?.[0];
          if (ended) {
            const ext = ended.extensions as { code?: string; reason?: string; cursor?: string } | undefined;
            if (ext?.cursor) this.cursor = ext.cursor;
            this.end(`${ended.message}${ext?.reason ? ` (${ext.reason})` : ''}`);
            return;
          }
          const item = result.data?.auditEventTail;
          if (!item) return;
          this.cursor = item.cursor;
          this.items = [item, ...this.items].slice(0, KEEP);
        },
        error: (err) => this.end(`The tail stopped: ${err instanceof Error ? err.message : 'the connection failed'}`),
        complete: () => this.end(this.status.startsWith('Listening') ? 'The tail ended.' : this.status),
      });
  }

  private end(status: string): void {
    this.stop?.();
    this.stop = null;
    this.running = false;
    if (status) this.status = status;
  }

  override render() {
    return html`
      <section aria-labelledby="tail">
        <h3 id="tail">Live tail</h3>
        ${this.running ? html`<button type="button" @click=${() => this.end('Stopped.')}>Stop live tail</button>`
          : html`<button type="button" @click=${this.start}>${this.cursor ? 'Resume live tail' : 'Start live tail'}</button>`}
        <span class="muted" aria-live="polite">${this.status}</span>
        ${this.items.length > 0 ? html`<ol aria-label="Events as they arrive, newest first">${this.items.map((i) => html`<li data-event=${i.event.id}>
          <span class="muted">${new Date(i.event.timestamp).toLocaleTimeString()}</span> ${i.event.class} ${i.event.command} ${i.event.user}@${i.event.database}:
          <code>${i.event.statement ?? 'not logged'}</code></li>`)}</ol>` : null}
      </section>`;
  }
}
customElements.define('pga-live-tail', PgaLiveTail);
