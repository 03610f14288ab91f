/**
 * <pga-event-detail>: one event whole (auditEvent: the statement and parameters uncut), in a modal dialog that
 * Escape or Close dismisses. `open(serviceId, id)` loads and shows it.
 */
import type { Client } from '@urql/core';
import { css, html, LitElement } from 'lit';
import { describeError } from '../api';
import { graphql } from '../gql';
import type { EventDetailQuery } from '../gql/graphql';

const EVENT = graphql(`
  query EventDetail($serviceId: ID!, $id: ID!) {
    auditEvent(serviceId: $serviceId, id: $id) {
      id timestamp auditType statementId substatementId class command objectType objectName statement statementBytes parameters rows
      user database sessionId sessionLineNum applicationName remoteHost ingestedAt
      redaction { rulesVersion literalsMasked patternsMasked parametersDropped }
    }
  }
`);

type Detail = NonNullable<EventDetailQuery['auditEvent']>;

export class PgaEventDetail extends LitElement {
  static override properties = { client: { attribute: false }, event: { state: true }, error: { state: true } };
  client!: Client;
  event: Detail | null = null;
  error = '';

  static override styles = css`
    dialog { max-width: min(60rem, 95vw); width: 100%; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; }
    dialog::backdrop { background: rgb(0 0 0 / 35%); }
    h2 { font-size: 1.15rem; margin-top: 0; }
    dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.3rem 1rem; margin: 0 0 1rem; }
    dt { font-weight: 600; }
    dd { margin: 0; word-break: break-word; }
    pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem; white-space: pre-wrap; word-break: break-word; max-height: 50vh; overflow: auto; }
    button { font: inherit; padding: 0.4rem 0.9rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer; }
    button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    [role='alert'] { color: var(--bad); }
  `;

  async open(serviceId: string, id: string): Promise<void> {
    this.event = null;
    this.error = '';
    this.renderRoot.querySelector('dialog')?.showModal();
    const result = await this.client.query(EVENT, { serviceId, id }).toPromise();
    if (result.error) { this.error = describeError(result.error); return; }
    if (!result.data?.auditEvent) { this.error = 'This event is no longer stored (retention).'; return; }
    this.event = result.data.auditEvent;
  }

  private close(): void { this.renderRoot.querySelector('dialog')?.close(); }

  override render() {
    const e = this.event;
    const row = (label: string, value: unknown) => (value === null || value === undefined || value === '' ? null : html`<dt>${label}</dt><dd>${String(value)}</dd>`);
    return html`<dialog aria-labelledby="detail-title">
      <h2 id="detail-title">Audit event</h2>
      ${this.error ? html`<p role="alert">${this.error}</p>` : null}
      ${e ? html`
        <dl>
          ${row('Time', new Date(e.timestamp).toLocaleString())}${row('Type', e.auditType)}${row('Class', e.class)}${row('Command', e.command)}
          ${row('Object', e.objectName ? `${e.objectType ?? ''} ${e.objectName}`.trim() : null)}${row('User', e.user)}${row('Database', e.database)}
          ${row('Statement / substatement', `${e.statementId} / ${e.substatementId}`)}${row('Rows', e.rows)}
          ${row('Session', `${e.sessionId} line ${e.sessionLineNum}`)}${row('Application', e.applicationName)}${row('Client', e.remoteHost)}
          ${row('Indexed', e.ingestedAt ? new Date(e.ingestedAt).toLocaleString() : null)}${row('Event id', e.id)}
          ${e.redaction ? row('Redaction', `rules version ${e.redaction.rulesVersion}: ${e.redaction.literalsMasked} literals and ${e.redaction.patternsMasked} patterns masked${e.redaction.parametersDropped ? ', parameters dropped' : ''}`) : null}
        </dl>
        <h3>Statement${e.statementBytes ? ` (${e.statementBytes} bytes)` : ''}</h3>
        <pre>${e.statement ?? 'not logged'}</pre>
        <h3>Parameters</h3>
        ${e.parameters === null || e.parameters === undefined ? html`<p>not logged</p>` : e.parameters.length === 0 ? html`<p>none</p>`
          : html`<ol>${e.parameters.map((p) => html`<li><code>${p}</code></li>`)}</ol>`}` : this.error ? null : html`<p>Loading…</p>`}
      <p><button type="button" @click=${this.close} autofocus>Close</button></p>
    </dialog>`;
  }
}
customElements.define('pga-event-detail', PgaEventDetail);
