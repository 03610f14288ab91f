/**
 * <pga-services>: the project's services, each with its audit status and last change, each policy's drift (the server's
 * settings against what the gateway applied) and eligibility (every failing requirement with its reason). A token
 * without read:policy cannot list services: it opens a service's events by id.
 */
import type { Client } from '@urql/core';
import { css, html, LitElement } from 'lit';
import { describeError } from '../api';
import { graphql } from '../gql';
import type { AuditRequirement, ServicesQuery } from '../gql/graphql';
import { holds, type Viewer } from '../viewer';

/**
 * A page of 10: each service's eligibility and its policies' drift read its server (one connection per service, shared),
 * and the query's cost (25 points per live read, GRAPHQL_MAX_COST 1000 by default) allows about 10 such services.
 */
const SERVICES = graphql(`
  query Services($after: String) {
    services(first: 10, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name
        audit { enabled enabledScopes lastChange { at actor action database role version } }
        policies { id database role enabled drift { setting applied live } driftChecked }
        eligibility { eligible checks { requirement satisfied detail } } } }
    }
  }
`);

type Service = ServicesQuery['services']['edges'][number]['node'];

/** The requirement codes as a person reads them (every code: a new one in the schema fails the build). */
const REQUIREMENT: Record<AuditRequirement, string> = {
  PRO_PLATFORM: 'Pro Platform (organization)',
  PRO_FEATURES: 'Pro Features (project)',
  POSTGRES_VERSION: 'PostgreSQL 11 or newer',
  AVNADMIN_ROLE: 'acting as avnadmin',
};

/** A policy's scope as a person reads it. */
export function scopeName(p: { database?: string | null; role?: string | null }): string {
  return p.database && p.role ? `role ${p.role} in ${p.database}` : p.database ? `database ${p.database}` : p.role ? `role ${p.role}` : 'service level';
}

export class PgaServices extends LitElement {
  static override properties = { client: { attribute: false }, viewer: { attribute: false }, services: { state: true }, total: { state: true },
    next: { state: true }, error: { state: true }, loading: { state: true } };
  client!: Client;
  viewer!: Viewer;
  services: Service[] = [];
  total = 0;
  next: string | null = null;
  error = '';
  loading = false;

  static override styles = css`
    :host { display: block; }
    h2 { font-size: 1.25rem; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { font-weight: 600; background: var(--panel); }
    .yes { color: var(--good); font-weight: 600; }
    .no { color: var(--bad); font-weight: 600; }
    ul { margin: 0.25rem 0 0; padding-left: 1.1rem; }
    [role='alert'] { color: var(--bad); }
    .muted { color: var(--muted); font-size: 0.9rem; }
    code { font-size: 0.88rem; }
    form.by-id input { font: inherit; padding: 0.4rem; border: 1px solid var(--line); border-radius: 6px; min-width: 16rem; }
    form.by-id input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    a { color: var(--accent); }
    a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
    button { font: inherit; margin-top: 0.75rem; padding: 0.35rem 0.8rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer; }
    button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    @media (max-width: 40rem) {
      thead { display: none; }
      tr, td { display: block; }
      tr { border-bottom: 1px solid var(--line); padding: 0.5rem 0; }
      td { border: 0; padding: 0.2rem 0; }
      td::before { content: attr(data-label) ': '; font-weight: 600; }
    }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    if (holds(this.viewer, 'read:policy')) void this.load(null);
  }

  private async load(after: string | null): Promise<void> {
    this.loading = true;
    const result = await this.client.query(SERVICES, { after }).toPromise();
    this.loading = false;
    if (result.error || !result.data) { this.error = result.error ? describeError(result.error) : 'no answer'; return; }
    this.error = '';
    const page = result.data.services;
    this.services = after ? [...this.services, ...page.edges.map((e) => e.node)] : page.edges.map((e) => e.node);
    this.total = page.totalCount;
    this.next = page.pageInfo.hasNextPage ? page.pageInfo.endCursor ?? null : null;
  }

  private open(e: Event, s: Service, view: 'events' | 'policy'): void {
    e.preventDefault();
    this.dispatchEvent(new CustomEvent('open-service', { detail: { id: s.id, name: s.name, view }, bubbles: true, composed: true }));
  }

  /** Audit status, and the last change made through the gateway (what, where, who, when). */
  private status(s: Service) {
    const c = s.audit.lastChange;
    return html`${s.audit.enabled ? html`enabled <span class="muted">(${s.audit.enabledScopes} ${s.audit.enabledScopes === 1 ? 'scope' : 'scopes'})</span>` : 'off'}
      ${c ? html`<div class="muted">Last change: ${c.action?.toLowerCase() ?? 'a revision missing from the history'}, ${scopeName(c)}, ${new Date(c.at).toLocaleString()}, by ${c.actor}</div>` : null}`;
  }

  /** Each enabled policy's drift: in sync, which settings differ (applied -> live), or unknown (server unreachable). */
  private drift(s: Service) {
    const enabled = s.policies.filter((p) => p.enabled);
    if (enabled.length === 0) return html`<span class="muted">no policy</span>`;
    const drifted = enabled.filter((p) => p.drift.length > 0);
    const unknown = enabled.filter((p) => !p.driftChecked);
    if (drifted.length === 0 && unknown.length === 0) return html`<span class="yes">In sync</span>`;
    return html`${drifted.length > 0 ? html`<span class="no">Drifted</span>` : html`<span class="muted">Unknown: the server could not be read</span>`}
      <ul>${drifted.map((p) => html`<li><strong>${scopeName(p)}</strong>: ${p.drift.map((d, i) => html`${i > 0 ? ', ' : ''}<code>${d.setting}</code> ${d.applied ?? '(unset)'} → ${d.live ?? '(unset)'}`)}</li>`)}</ul>`;
  }

  /** Without read:policy no list: the events of a service whose id the person has. */
  private openById(e: SubmitEvent): void {
    e.preventDefault();
    const id = String(new FormData(e.target as HTMLFormElement).get('serviceId') ?? '').trim();
    if (id) this.dispatchEvent(new CustomEvent('open-service', { detail: { id, name: id, view: 'events' }, bubbles: true, composed: true }));
  }

  private eligibility(s: Service) {
    if (s.eligibility.eligible) return html`<span class="yes">Eligible</span>`;
    const failing = s.eligibility.checks.filter((c) => !c.satisfied);
    return html`<span class="no">Not eligible</span>
      <ul>${failing.map((c) => html`<li><strong>${REQUIREMENT[c.requirement]}</strong>: ${c.detail}</li>`)}</ul>`;
  }

  override render() {
    if (!holds(this.viewer, 'read:policy')) {
      return html`<h2>Services</h2>
        <p>This token lacks the <code>read:policy</code> scope, so it cannot list the project's services.${holds(this.viewer, 'read:events') ? ' It can read a service\'s events:' : ''}</p>
        ${holds(this.viewer, 'read:events') ? html`<form class="by-id" @submit=${this.openById}>
          <label for="service-id">Service id</label> <input id="service-id" name="serviceId" type="text" required maxlength="100" spellcheck="false" />
          <button type="submit">Open its events</button></form>` : null}`;
    }
    return html`
      <h2>Services <small>(${this.total})</small></h2>
      ${this.error ? html`<p role="alert">${this.error}</p>` : null}
      <table>
        <caption class="visually-hidden">Services of this project</caption>
        <thead><tr><th scope="col">Service</th><th scope="col">Audit logging</th><th scope="col">Drift</th><th scope="col">Eligibility</th></tr></thead>
        <tbody>
          ${this.services.map((s) => html`<tr data-service=${s.id}>
            <td data-label="Service">${holds(this.viewer, 'read:events')
              ? html`<a href="#/services/${s.id}/events" @click=${(e: Event) => this.open(e, s, 'events')} aria-label=${`Audit events of ${s.name}`}>${s.name}</a>` : s.name}
              <br /><a href="#/services/${s.id}/policy" @click=${(e: Event) => this.open(e, s, 'policy')} aria-label=${`Audit policy of ${s.name}`}>Audit policy</a></td>
            <td data-label="Audit logging">${this.status(s)}</td>
            <td data-label="Drift">${this.drift(s)}</td>
            <td data-label="Eligibility">${this.eligibility(s)}</td></tr>`)}
        </tbody>
      </table>
      ${this.loading ? html`<p aria-live="polite">Loading…</p>` : null}
      ${this.next ? html`<button type="button" @click=${() => this.load(this.next)}>More services</button>` : null}`;
  }
}
customElements.define('pga-services', PgaServices);
