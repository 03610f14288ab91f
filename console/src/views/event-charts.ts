/**
 * <pga-event-charts>: the counts of a service's events over the shown range (auditEventStats): a histogram (uPlot, one
 * bar per interval) and the top values of one dimension (class, command, user, database, object, audit type) as
 * buttons. A bar's click narrows the range to its interval; by keyboard the histogram is a slider (arrows pick a bar,
 * Enter narrows to it). A top value's click keeps only that value. Fires `narrow` with the filter to apply and
 * `group-by` with the dimension chosen; the table above it owns the filter and the query.
 */
import { css, html, LitElement, unsafeCSS, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';
import type { AuditEventFilter, AuditEventGroupBy } from '../gql/graphql';

/** What the charts draw: from auditEventStats. */
export interface EventCounts {
  start: number | null;
  intervalMs: number;
  counts: number[];
  groupBy: AuditEventGroupBy;
  groups: { key: string; count: number }[];
}

/** Each dimension of the top-N chart: its label and the filter field its value narrows (every dimension: a new one fails the build). */
export const DIMENSIONS: Record<AuditEventGroupBy, { label: string; narrow: (key: string) => AuditEventFilter }> = {
  CLASS: { label: 'class', narrow: (k) => ({ classes: [k] }) },
  COMMAND: { label: 'command', narrow: (k) => ({ commands: [k] }) },
  USER: { label: 'user', narrow: (k) => ({ users: [k] }) },
  DATABASE: { label: 'database', narrow: (k) => ({ databases: [k] }) },
  OBJECT_NAME: { label: 'object', narrow: (k) => ({ objectNames: [k] }) },
  AUDIT_TYPE: { label: 'audit type', narrow: (k) => ({ auditTypes: [k as 'SESSION' | 'OBJECT'] }) },
};

const TOP = 8;

export class PgaEventCharts extends LitElement {
  static override properties = { data: { attribute: false }, selected: { state: true } };
  data: EventCounts | null = null;
  /** The bar picked by keyboard (an index into data.counts), or null. */
  selected: number | null = null;
  private plot: uPlot | null = null;

  static override styles = [unsafeCSS(uPlotCss), css`
    :host { display: grid; grid-template-columns: minmax(0, 3fr) minmax(12rem, 1fr); gap: 1rem; margin: 1rem 0; }
    @media (max-width: 40rem) { :host { grid-template-columns: minmax(0, 1fr); } }
    h3 { font-size: 1rem; margin: 0 0 0.5rem; display: flex; gap: 0.5rem; align-items: baseline; flex-wrap: wrap; }
    .plot { min-height: 180px; border-radius: 6px; }
    .plot:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    .hint { color: var(--muted); font-size: 0.85rem; margin: 0.25rem 0 0; }
    ul { list-style: none; margin: 0; padding: 0; }
    li { margin: 0 0 0.3rem; }
    select { font: inherit; font-weight: normal; padding: 0.15rem; border: 1px solid var(--line); border-radius: 6px; }
    button { font: inherit; width: 100%; text-align: left; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer;
      padding: 0.25rem 0.5rem; position: relative; overflow: hidden; }
    button:focus-visible, select:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    .bar { position: absolute; inset: 0 auto 0 0; background: #dbe7fb; z-index: 0; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
    .label { position: relative; z-index: 1; display: flex; justify-content: space-between; gap: 0.5rem; overflow-wrap: anywhere; }
  `];

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('data')) {
      this.selected = null;
      this.draw();
    }
    // the bars' widths through the CSSOM: the Content-Security-Policy allows no inline style attribute
    const top = this.data?.groups.slice(0, TOP) ?? [];
    const max = Math.max(1, ...top.map((g) => g.count));
    this.renderRoot.querySelectorAll<HTMLElement>('.bar').forEach((bar, i) => { bar.style.width = `${(100 * (top[i]?.count ?? 0)) / max}%`; });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.plot?.destroy();
    this.plot = null;
  }

  private draw(): void {
    this.plot?.destroy();
    this.plot = null;
    const host = this.renderRoot.querySelector<HTMLElement>('.plot');
    const d = this.data;
    if (!host || !d || d.start === null || d.counts.length === 0) return;
    const xs = d.counts.map((_, i) => (d.start! + i * d.intervalMs) / 1000);
    this.plot = new uPlot({
      width: Math.max(host.clientWidth, 240), height: 180, legend: { show: false }, cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      series: [{}, { label: 'events', fill: '#9dbcf2', stroke: '#0a58ca', paths: uPlot.paths.bars!({ size: [0.9, 40] }) }],
      axes: [{}, { size: 50 }],
    }, [xs, d.counts], host);
    // a click on a bar narrows the range to its interval
    this.plot.over.addEventListener('click', () => {
      const i = this.plot?.cursor.idx;
      if (i !== null && i !== undefined) this.narrowTo(i);
    });
  }

  private interval(i: number): { from: number; to: number } {
    const from = this.data!.start! + i * this.data!.intervalMs;
    return { from, to: from + this.data!.intervalMs - 1 };
  }

  private narrowTo(i: number): void {
    const { from, to } = this.interval(i);
    this.narrow({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  }

  /** The histogram as a slider: arrows, Home/End and PageUp/PageDown pick a bar (uPlot's cursor shows it), Enter narrows to it. */
  private key(e: KeyboardEvent): void {
    const d = this.data;
    if (!d || d.start === null || d.counts.length === 0) return;
    const last = d.counts.length - 1;
    const at = this.selected ?? last;
    const step: Record<string, number> = { ArrowLeft: at - 1, ArrowDown: at - 1, ArrowRight: at + 1, ArrowUp: at + 1, Home: 0, End: last,
      PageDown: at - 10, PageUp: at + 10 };
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.narrowTo(at);
      return;
    }
    if (!(e.key in step)) return;
    e.preventDefault();
    this.selected = Math.min(last, Math.max(0, step[e.key]!));
    this.plot?.setCursor({ left: this.plot.valToPos((d.start + this.selected * d.intervalMs) / 1000, 'x'), top: this.plot.valToPos(d.counts[this.selected]!, 'y') });
  }

  private describe(i: number): string {
    const { from, to } = this.interval(i);
    const n = this.data!.counts[i]!;
    return `${new Date(from).toLocaleString()} – ${new Date(to + 1).toLocaleTimeString()}: ${n} ${n === 1 ? 'event' : 'events'}`;
  }

  private narrow(detail: AuditEventFilter): void {
    this.dispatchEvent(new CustomEvent('narrow', { detail, bubbles: true, composed: true }));
  }

  private groupBy(e: Event): void {
    this.dispatchEvent(new CustomEvent('group-by', { detail: (e.target as HTMLSelectElement).value as AuditEventGroupBy, bubbles: true, composed: true }));
  }

  override render() {
    const d = this.data;
    const bars = d && d.start !== null ? d.counts.length : 0;
    const total = d ? d.counts.reduce((a, b) => a + b, 0) : 0;
    const top = d ? d.groups.slice(0, TOP) : [];
    const dimension = d ? DIMENSIONS[d.groupBy] : DIMENSIONS.CLASS;
    const at = this.selected ?? (bars > 0 ? bars - 1 : null);
    return html`
      <section aria-labelledby="over-time">
        <h3 id="over-time">Over time</h3>
        <div class="plot" tabindex=${bars > 0 ? '0' : '-1'} role="slider" aria-label=${d ? `Events over time: ${total} in ${bars} intervals` : 'Events over time: loading'}
          aria-valuemin="0" aria-valuemax=${Math.max(0, bars - 1)} aria-valuenow=${at ?? 0} aria-valuetext=${at !== null && bars > 0 ? this.describe(at) : 'no events'}
          @keydown=${this.key}></div>
        <p class="hint">Click a bar, or pick one with the arrow keys and press Enter, to show only its interval.</p>
        <p class="visually-hidden" aria-live="polite">${this.selected !== null && bars > 0 ? this.describe(this.selected) : ''}</p>
      </section>
      <section aria-labelledby="top-values">
        <h3 id="top-values"><span>Top by</span>
          <select aria-label="Top values by" @change=${this.groupBy}>${Object.entries(DIMENSIONS).map(([key, { label }]) =>
            html`<option value=${key} ?selected=${key === (d?.groupBy ?? 'CLASS')}>${label}</option>`)}</select></h3>
        <ul>${top.map((g) => html`<li><button type="button" @click=${() => this.narrow(dimension.narrow(g.key))}>
          <span class="bar"></span><span class="label"><span>${g.key}</span> <span>${g.count}<span class="visually-hidden"> events, show only this ${dimension.label}</span></span></span></button></li>`)}</ul>
        ${d && top.length === 0 ? html`<p class="hint">No events in this range.</p>` : null}
      </section>`;
  }
}
customElements.define('pga-event-charts', PgaEventCharts);
