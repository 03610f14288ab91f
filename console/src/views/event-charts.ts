/**
 * <pga-event-charts>: the counts of a service's events over the shown range (auditEventStats): a histogram (uPlot,
 * one bar per interval; click a bar to narrow the range to it) and the top classes as buttons (click one to keep
 * only that class). Fires `narrow` with the filter to apply; the table above it owns the filter.
 */
import { css, html, LitElement, unsafeCSS, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';

/** What the charts draw: from auditEventStats. */
export interface EventCounts {
  start: number | null;
  intervalMs: number;
  counts: number[];
  groups: { key: string; count: number }[];
}

export class PgaEventCharts extends LitElement {
  static override properties = { data: { attribute: false } };
  data: EventCounts | null = null;
  private plot: uPlot | null = null;

  static override styles = [unsafeCSS(uPlotCss), css`
    :host { display: grid; grid-template-columns: minmax(0, 3fr) minmax(12rem, 1fr); gap: 1rem; margin: 1rem 0; }
    @media (max-width: 40rem) { :host { grid-template-columns: minmax(0, 1fr); } }
    h3 { font-size: 1rem; margin: 0 0 0.5rem; }
    .plot { min-height: 180px; }
    ul { list-style: none; margin: 0; padding: 0; }
    li { margin: 0 0 0.3rem; }
    button { font: inherit; width: 100%; text-align: left; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer;
      padding: 0.25rem 0.5rem; position: relative; overflow: hidden; }
    button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    .bar { position: absolute; inset: 0 auto 0 0; background: #dbe7fb; z-index: 0; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
    .label { position: relative; z-index: 1; display: flex; justify-content: space-between; gap: 0.5rem; }
  `];

  protected override updated(changed: PropertyValues<this>): void {
    if (!changed.has('data')) return;
    this.draw();
    // the bars' widths through the CSSOM: the Content-Security-Policy allows no inline style attribute
    const top = this.data?.groups.slice(0, 8) ?? [];
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
      if (i === null || i === undefined) return;
      const from = d.start! + i * d.intervalMs;
      this.narrow({ from: new Date(from).toISOString(), to: new Date(from + d.intervalMs - 1).toISOString() });
    });
  }

  private narrow(detail: { from?: string; to?: string; classes?: string[] }): void {
    this.dispatchEvent(new CustomEvent('narrow', { detail, bubbles: true, composed: true }));
  }

  override render() {
    const d = this.data;
    const total = d ? d.counts.reduce((a, b) => a + b, 0) : 0;
    const busiest = d && d.start !== null && total > 0 ? d.start + d.counts.indexOf(Math.max(...d.counts)) * d.intervalMs : null;
    const top = d ? d.groups.slice(0, 8) : [];
    return html`
      <section aria-labelledby="over-time">
        <h3 id="over-time">Over time</h3>
        <div class="plot" role="img" aria-label=${d ? `${total} events in ${d.counts.length} intervals${busiest !== null ? `, the most from ${new Date(busiest).toLocaleString()}` : ''}. Click a bar to show only its interval.` : 'Loading'}></div>
      </section>
      <section aria-labelledby="by-class">
        <h3 id="by-class">By class</h3>
        <ul>${top.map((g) => html`<li><button type="button" @click=${() => this.narrow({ classes: [g.key] })}>
          <span class="bar"></span><span class="label"><span>${g.key}</span> <span>${g.count}<span class="visually-hidden"> events, show only this class</span></span></span></button></li>`)}</ul>
      </section>`;
  }

}
customElements.define('pga-event-charts', PgaEventCharts);
