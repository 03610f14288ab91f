/**
 * <pga-events>: one service's audit events, newest first: a time range, a text search (the API's grammar: parts of
 * names, prefixes with *, "quoted phrases"), a filter on every field of AuditEventFilter, a page of 50 with the
 * statement of each event, and older pages by cursor. Every value the person types goes to the API as a variable:
 * never into a query's text.
 */
import type { Client } from '@urql/core';
import { css, html, LitElement } from 'lit';
import { describeError } from '../api';
import { graphql } from '../gql';
import type { AuditEventFilter, AuditEventGroupBy, AuditType, EventsQuery } from '../gql/graphql';
import { DIMENSIONS, type EventCounts } from './event-charts';
import './event-charts';
import type { PgaEventDetail } from './event-detail';
import './event-detail';
import './live-tail';

const EVENTS = graphql(`
  query Events($serviceId: ID!, $filter: AuditEventFilter, $after: String) {
    auditEvents(serviceId: $serviceId, filter: $filter, first: 50, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id timestamp auditType class command objectType objectName statement statementTruncated parameters user database } }
    }
  }
`);

const STATS = graphql(`
  query EventStats($serviceId: ID!, $filter: AuditEventFilter, $groupBy: AuditEventGroupBy!, $interval: String!) {
    auditEventStats(serviceId: $serviceId, filter: $filter, groupBy: $groupBy, interval: $interval) {
      totalCount overTimeStart overTimeCounts groups { key count }
    }
  }
`);

type Event = EventsQuery['auditEvents']['edges'][number]['node'];

/** Histogram intervals, finest first: the first that gives at most 240 bars over the range is used. */
const INTERVALS: readonly [name: string, ms: number][] = [['1m', 60_000], ['5m', 300_000], ['15m', 900_000], ['1h', 3_600_000], ['6h', 21_600_000], ['1d', 86_400_000]];

function intervalFor(fromMs: number, toMs: number): [string, number] {
  return [...INTERVALS.find(([, ms]) => (toMs - fromMs) / ms <= 240) ?? INTERVALS[INTERVALS.length - 1]!];
}

/** The list filters of AuditEventFilter, typed comma-separated: their form field, label and an example. */
const LIST_FILTERS = [
  ['classes', 'Classes', 'DDL, WRITE'], ['commands', 'Commands', 'UPDATE, DROP TABLE'], ['users', 'Users', 'app_rw'],
  ['databases', 'Databases', 'sales'], ['objectNames', 'Objects', 'public.accounts'],
] as const satisfies readonly (readonly [keyof AuditEventFilter, string, string])[];
const AUDIT_TYPES: readonly AuditType[] = ['SESSION', 'OBJECT'];

/** What a filter holds, in words ("classes DDL; users app"): what the table shows. */
function describeFilter(f: AuditEventFilter): string {
  const parts: string[] = [];
  for (const [key, label] of [...LIST_FILTERS, ['auditTypes', 'Audit types', '']] as const) {
    const values = f[key];
    if (values && values.length > 0) parts.push(`${label.toLowerCase()} ${values.join(', ')}`);
  }
  if (f.sessionId) parts.push(`session ${f.sessionId}`);
  if (f.from && f.to) parts.push(`${new Date(f.from).toLocaleString()} – ${new Date(f.to).toLocaleString()}`);
  return parts.join('; ');
}

/** The time ranges offered, in hours before now (0: all of the retention). */
const RANGES: readonly [label: string, hours: number][] = [['Last hour', 1], ['Last 24 hours', 24], ['Last 7 days', 168], ['Last 30 days', 720], ['All', 0]];

export class PgaEvents extends LitElement {
  static override properties = { client: { attribute: false }, token: { attribute: false }, serviceId: {}, serviceName: {},
    exportNote: { state: true }, groupBy: { state: true },
    events: { state: true }, total: { state: true },
    next: { state: true }, error: { state: true }, loading: { state: true }, counts: { state: true } };
  client!: Client;
  /** The dimension of the top-N chart. */
  groupBy: AuditEventGroupBy = 'CLASS';
  /** For POST /export, which is no GraphQL operation. */
  token = '';
  exportNote = '';
  serviceId = '';
  serviceName = '';
  events: Event[] = [];
  total = 0;
  next: string | null = null;
  error = '';
  loading = false;
  counts: EventCounts | null = null;
  /** The form's filter (range start, text, fields) and what a chart click narrowed it to (an interval, a value). */
  private base: AuditEventFilter = {};
  private narrowed: AuditEventFilter = {};
  private get filter(): AuditEventFilter { return { ...this.base, ...this.narrowed }; }
  /**
   * The newest page and chart requests: an answer to an older one is dropped, so a slow first load (or a page
   * asked for before a new search) never overwrites the answer to the filter shown.
   */
  private pageRequest = 0;
  private countsRequest = 0;

  static override styles = css`
    :host { display: block; }
    h2 { font-size: 1.25rem; }
    form.export { margin-top: 1.5rem; }
    form { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: end; margin-bottom: 1rem; }
    label { display: flex; flex-direction: column; font-weight: 600; font-size: 0.9rem; gap: 0.2rem; }
    details.filters { flex-basis: 100%; order: 1; }
    details.filters summary { cursor: pointer; font-weight: 600; font-size: 0.9rem; }
    summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    .fields { display: flex; flex-wrap: wrap; gap: 0.75rem; margin-top: 0.5rem; }
    .muted { color: var(--muted); }
    label .muted { font-weight: normal; }
    input, select { font: inherit; padding: 0.4rem; border: 1px solid var(--line); border-radius: 6px; min-width: 12rem; }
    input:focus-visible, select:focus-visible, button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    button { font: inherit; padding: 0.4rem 0.9rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer; }
    table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
    th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { background: var(--panel); font-weight: 600; }
    button.link { border: 0; background: none; padding: 0; color: var(--accent); text-decoration: underline; text-align: left; }
    td.statement { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-word; }
    [role='alert'] { color: var(--bad); }
    @media (max-width: 40rem) {
      thead { display: none; }
      tr, td { display: block; }
      tr { border-bottom: 1px solid var(--line); padding: 0.4rem 0; }
      td { border: 0; padding: 0.15rem 0; }
      td::before { content: attr(data-label) ': '; font-weight: 600; font-family: system-ui, sans-serif; }
    }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    this.base = { from: new Date(Date.now() - 24 * 3_600_000).toISOString() };
    void this.load(null);
  }

  /** The charts of the current filter over its range (without a start: the last year). */
  private async loadCounts(): Promise<void> {
    const to = this.filter.to ? Date.parse(this.filter.to) : Date.now();
    const from = this.filter.from ? Date.parse(this.filter.from) : to - 365 * 86_400_000;
    const [interval, intervalMs] = intervalFor(from, to);
    const filter = { ...this.filter, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    const groupBy = this.groupBy;
    const request = ++this.countsRequest;
    const result = await this.client.query(STATS, { serviceId: this.serviceId, filter, groupBy, interval }).toPromise();
    if (request !== this.countsRequest) return;
    if (result.error || !result.data) { this.error = result.error ? describeError(result.error) : 'no answer'; return; }
    const s = result.data.auditEventStats;
    this.counts = { start: s.overTimeStart ? Date.parse(s.overTimeStart) : null, intervalMs, counts: s.overTimeCounts, groupBy, groups: s.groups };
  }

  private regroup(e: CustomEvent<AuditEventGroupBy>): void {
    this.groupBy = e.detail;
    void this.loadCounts();
  }

  private narrow(e: CustomEvent<AuditEventFilter>): void {
    this.narrowed = { ...this.narrowed, ...e.detail };
    void this.load(null);
  }

  private async load(after: string | null): Promise<void> {
    this.loading = true;
    if (after === null) { this.exportNote = ''; void this.loadCounts(); }
    const request = ++this.pageRequest;
    const result = await this.client.query(EVENTS, { serviceId: this.serviceId, filter: this.filter, after }).toPromise();
    if (request !== this.pageRequest) return;
    this.loading = false;
    if (result.error || !result.data) { this.error = result.error ? describeError(result.error) : 'no answer'; return; }
    this.error = '';
    const page = result.data.auditEvents;
    const nodes = page.edges.map((e) => e.node);
    this.events = after ? [...this.events, ...nodes] : nodes;
    this.total = page.totalCount;
    this.next = page.pageInfo.hasNextPage ? page.pageInfo.endCursor ?? null : null;
  }

  private search(e: SubmitEvent): void {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const hours = Number(form.get('range'));
    const text = String(form.get('text') ?? '').trim();
    const sessionId = String(form.get('sessionId') ?? '').trim();
    const auditType = String(form.get('auditType') ?? '');
    const lists = Object.fromEntries(LIST_FILTERS
      .map(([key]) => [key, String(form.get(key) ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '')] as const)
      .filter(([, values]) => values.length > 0));
    this.base = { ...(hours > 0 ? { from: new Date(Date.now() - hours * 3_600_000).toISOString() } : {}), ...(text ? { text } : {}),
      ...lists, ...(sessionId ? { sessionId } : {}), ...(AUDIT_TYPES.includes(auditType as AuditType) ? { auditTypes: [auditType as AuditType] } : {}) };
    this.narrowed = {};
    void this.load(null);
  }

  /** Drops what chart clicks narrowed: back to the form's range and text. */
  private widen(): void {
    this.narrowed = {};
    void this.load(null);
  }

  /**
   * POST /export of the shown filter, saved as a file. The whole answer is held in the tab's memory before it is
   * saved: for exports of millions of events use the CLI (README, Export for auditors). An NDJSON export's last
   * line says whether it is complete; a CSV export says so in HTTP trailers, which a browser cannot read.
   */
  private async exportEvents(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const format = String(new FormData(e.target as HTMLFormElement).get('format')) === 'csv' ? 'csv' : 'ndjson';
    this.exportNote = 'Exporting…';
    const res = await fetch('/export', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ serviceId: this.serviceId, format, filter: this.filter }) });
    if (!res.ok) {
      const body = await res.json().catch(() => null) as { errors?: { message: string; extensions?: { code?: string } }[] } | null;
      const first = body?.errors?.[0];
      this.exportNote = first ? `Export refused: ${first.message} (${first.extensions?.code ?? res.status})` : `Export refused: HTTP ${res.status}`;
      return;
    }
    const blob = await res.blob();
    if (format === 'ndjson') {
      const tail = (await blob.slice(Math.max(0, blob.size - 8192)).text()).trimEnd();
      const end = (JSON.parse(tail.slice(tail.lastIndexOf('\n') + 1)) as { '@export'?: { status: string; events: number } })['@export'];
      this.exportNote = end?.status === 'complete' ? `Exported ${end.events} events, complete.`
        : `Exported ${end?.events ?? '?'} events, ${end?.status ?? 'without an end line'}: not every event is in the file (the CLI resumes an export).`;
    } else {
      this.exportNote = `Exported ${Math.ceil(blob.size / 1024)} KB of CSV (its completeness is in HTTP trailers a browser cannot read: use NDJSON or the CLI for a checked export).`;
    }
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `audit-events-${this.serviceName}-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.${format}`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  private hasFieldFilters(): boolean {
    return LIST_FILTERS.some(([key]) => (this.base[key]?.length ?? 0) > 0) || Boolean(this.base.sessionId) || Boolean(this.base.auditTypes);
  }

  /** The live tail follows the form's filter, all but its time range (a tail starts now). */
  private tailFilter(): AuditEventFilter {
    const { from: _from, to: _to, ...rest } = this.base;
    return rest;
  }

  private detail(id: string): void {
    void this.renderRoot.querySelector<PgaEventDetail>('pga-event-detail')?.open(this.serviceId, id);
  }

  private back(): void {
    this.dispatchEvent(new CustomEvent('back', { bubbles: true, composed: true }));
  }

  override render() {
    return html`
      <p><button type="button" @click=${this.back}>← Services</button></p>
      <h2>Audit events of ${this.serviceName}</h2>
      <form @submit=${this.search} role="search" aria-label="Which events">
        <label>Time range
          <select name="range">${RANGES.map(([label, hours]) => html`<option value=${hours} ?selected=${hours === 24}>${label}</option>`)}</select>
        </label>
        <label>Search statements
          <input name="text" type="search" placeholder="accounts, emp*, &quot;set note&quot;" maxlength="500" />
        </label>
        <details class="filters" ?open=${this.hasFieldFilters()}>
          <summary>Filter by field</summary>
          <div class="fields">
            ${LIST_FILTERS.map(([key, label, example]) => html`<label>${label} <span class="muted">(comma-separated)</span>
              <input name=${key} type="text" placeholder=${example} maxlength="2000" spellcheck="false" .value=${(this.base[key] ?? []).join(', ')} /></label>`)}
            <label>Audit type
              <select name="auditType"><option value="">any</option>${AUDIT_TYPES.map((t) => html`<option ?selected=${this.base.auditTypes?.[0] === t}>${t}</option>`)}</select></label>
            <label>Session id <input name="sessionId" type="text" maxlength="200" spellcheck="false" .value=${this.base.sessionId ?? ''} /></label>
          </div>
        </details>
        <button type="submit">Search</button>
      </form>
      ${this.error ? html`<p role="alert">${this.error}</p>` : null}
      ${Object.keys(this.narrowed).length > 0 ? html`<p>Narrowed to ${describeFilter(this.narrowed)}
        <button type="button" @click=${this.widen}>Show all</button></p>` : null}
      <pga-event-charts .data=${this.counts} @narrow=${this.narrow} @group-by=${this.regroup}></pga-event-charts>
      <pga-live-tail .token=${this.token} .serviceId=${this.serviceId} .filter=${this.tailFilter()}></pga-live-tail>
      <p class="muted" aria-live="polite">${this.loading ? 'Loading…' : `${this.total} ${this.total === 1 ? 'event' : 'events'}, ${this.events.length} shown`}</p>
      <table>
        <caption class="muted">Newest first</caption>
        <thead><tr><th scope="col">Time</th><th scope="col">Class</th><th scope="col">Command</th><th scope="col">Object</th>
          <th scope="col">User</th><th scope="col">Database</th><th scope="col">Statement</th></tr></thead>
        <tbody>${this.events.map((ev) => html`<tr data-event=${ev.id}>
          <td data-label="Time"><button type="button" class="link" @click=${() => this.detail(ev.id)} aria-label=${`Event of ${new Date(ev.timestamp).toLocaleString()}: details`}>${new Date(ev.timestamp).toLocaleString()}</button></td>
          <td data-label="Class">${ev.class}</td>
          <td data-label="Command">${ev.command}</td>
          <td data-label="Object">${ev.objectName ?? ''}</td>
          <td data-label="User">${ev.user}</td>
          <td data-label="Database">${ev.database}</td>
          <td data-label="Statement" class="statement">${ev.statement ?? html`<span class="muted">not logged</span>`}${ev.statementTruncated ? ' …' : ''}</td>
        </tr>`)}</tbody>
      </table>
      ${this.next ? html`<button type="button" @click=${() => this.load(this.next)}>Older events</button>` : null}
      <form class="export" @submit=${this.exportEvents}>
        <label>Export these events as
          <select name="format"><option value="ndjson">NDJSON (checked complete)</option><option value="csv">CSV</option></select>
        </label>
        <button type="submit">Export</button>
      </form>
      ${this.exportNote ? html`<p aria-live="polite" class="export-note">${this.exportNote}</p>` : null}
      <pga-event-detail .client=${this.client}></pga-event-detail>`;
  }
}
customElements.define('pga-events', PgaEvents);
