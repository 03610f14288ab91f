/** <pga-services>: the project's services, each with its audit status and eligibility (every failing requirement with its reason). */
import type { Client } from '@urql/core';
import { css, html, LitElement } from 'lit';
import { describeError } from '../api';
import { graphql } from '../gql';
import type { AuditRequirement, ServicesQuery } from '../gql/graphql';

/** A page of 20: each service's eligibility opens one connection to its server (the query's cost says so). */
const SERVICES = graphql(`
  query Services($after: String) {
    services(first: 20, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name audit { enabled } eligibility { eligible checks { requirement satisfied detail } } } }
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

export class PgaServices extends LitElement {
  static override properties = { client: { attribute: false }, services: { state: true }, total: { state: true }, next: { state: true },
    error: { state: true }, loading: { state: true } };
  client!: Client;
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
    void this.load(null);
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

  private eligibility(s: Service) {
    if (s.eligibility.eligible) return html`<span class="yes">Eligible</span>`;
    const failing = s.eligibility.checks.filter((c) => !c.satisfied);
    return html`<span class="no">Not eligible</span>
      <ul>${failing.map((c) => html`<li><strong>${REQUIREMENT[c.requirement]}</strong>: ${c.detail}</li>`)}</ul>`;
  }

  override render() {
    return html`
      <h2>Services <small>(${this.total})</small></h2>
      ${this.error ? html`<p role="alert">${this.error}</p>` : null}
      <table>
        <caption class="visually-hidden">Services of this project</caption>
        <thead><tr><th scope="col">Service</th><th scope="col">Audit logging</th><th scope="col">Eligibility</th></tr></thead>
        <tbody>
          ${this.services.map((s) => html`<tr data-service=${s.id}>
            <td data-label="Service"><a href="#/services/${s.id}/events" @click=${(e: Event) => this.open(e, s, 'events')}>${s.name}</a>
              <br /><a href="#/services/${s.id}/policy" @click=${(e: Event) => this.open(e, s, 'policy')} aria-label=${`Audit policy of ${s.name}`}>Audit policy</a></td>
            <td data-label="Audit logging">${s.audit.enabled ? 'enabled' : 'off'}</td>
            <td data-label="Eligibility">${this.eligibility(s)}</td></tr>`)}
        </tbody>
      </table>
      ${this.loading ? html`<p aria-live="polite">Loading…</p>` : null}
      ${this.next ? html`<button type="button" @click=${() => this.load(this.next)}>More services</button>` : null}`;
  }
}
customElements.define('pga-services', PgaServices);
