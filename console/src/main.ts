/**
 * <pga-console>: signed out, the sign-in; signed in, who the token is and what it may do (viewer), the services and a
 * service's events or policy, the API explorer's link, and sign-out.
 */
import { css, html, LitElement } from 'lit';
import type { Client } from '@urql/core';
import { apiClient, describeError, tokenStore } from './api';
import { VIEWER, type Viewer } from './viewer';
import type { SignedIn } from './views/sign-in';
import './views/sign-in';
import './views/services';
import './views/events';
import './views/policy';

export class PgaConsole extends LitElement {
  static override properties = { token: { state: true }, viewer: { state: true }, service: { state: true }, signInError: { state: true } };
  token: string | null = tokenStore.get();
  /** Who the token is; null until asked (after a reload the stored token is asked again). */
  viewer: Viewer | null = null;
  signInError = '';
  /** The GraphQL client of `token`, made once per sign-in (not per render). */
  private client: Client | null = this.token ? apiClient(this.token) : null;
  /** The service shown, and which of its screens; null: the list of services. */
  service: { id: string; name: string; view: 'events' | 'policy' } | null = null;

  static override styles = css`
    :host { display: block; }
    header { display: flex; align-items: center; justify-content: space-between; gap: 0.5rem 1rem; padding: 0.75rem 1rem;
      border-bottom: 1px solid var(--line); background: var(--panel); flex-wrap: wrap; }
    h1 { font-size: 1.1rem; margin: 0; }
    nav { display: flex; align-items: center; gap: 0.5rem 1rem; flex-wrap: wrap; }
    main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
    button { font: inherit; padding: 0.35rem 0.8rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer; }
    button:focus-visible, a:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    a { color: var(--accent); }
    details { position: relative; }
    summary { cursor: pointer; }
    details[open] .card { position: absolute; right: 0; z-index: 10; min-width: min(26rem, 90vw); background: var(--bg); border: 1px solid var(--line);
      border-radius: 6px; padding: 0.5rem 1rem; box-shadow: 0 4px 16px rgb(0 0 0 / 12%); }
    dl { margin: 0.25rem 0; }
    dt { font-weight: 600; }
    dd { margin: 0 0 0.4rem; color: var(--muted); }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
    @media (max-width: 40rem) { details[open] .card { position: static; } }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.client) void this.whoAmI(this.client);
  }

  /** A stored token asked again: one that was revoked or expired meanwhile goes back to the sign-in, saying why. */
  private async whoAmI(client: Client): Promise<void> {
    const result = await client.query(VIEWER, {}).toPromise();
    if (client !== this.client) return;   // signed out (or in again) meanwhile
    if (result.error || !result.data) { this.signOut(); this.signInError = result.error ? describeError(result.error) : 'no answer'; return; }
    this.viewer = result.data.viewer;
  }

  private signedIn(e: CustomEvent<SignedIn>): void {
    tokenStore.set(e.detail.token);
    this.client = apiClient(e.detail.token);
    this.token = e.detail.token;
    this.viewer = e.detail.viewer;
    this.signInError = '';
  }

  private signOut(): void {
    tokenStore.clear();
    this.client = null;
    this.token = null;
    this.viewer = null;
    this.service = null;
  }

  /** Who is signed in and what the token may do (its scopes, in the gateway's words). */
  private renderViewer(v: Viewer) {
    return html`<details>
      <summary>Token ${v.tokenName} <span class="visually-hidden">(what it may do)</span></summary>
      <div class="card">
        <p>Token <strong>${v.tokenName}</strong>, acting as database role <strong>${v.databaseRole}</strong>${
          v.expiresAt ? html`, until ${new Date(v.expiresAt).toLocaleString()}` : ', without expiry'}.</p>
        <dl>${v.scopes.map((s) => html`<dt>${s.name}</dt><dd>${s.description}</dd>`)}</dl>
        ${v.databaseRole !== 'avnadmin' ? html`<p>Audit logging is managed only as avnadmin: this token cannot change a policy.</p>` : null}
      </div>
    </details>`;
  }

  private renderScreen(client: Client, token: string, viewer: Viewer) {
    const s = this.service;
    const back = () => { this.service = null; };
    if (s?.view === 'events') {
      return html`<pga-events .client=${client} .token=${token} .serviceId=${s.id} .serviceName=${s.name} @back=${back}></pga-events>`;
    }
    if (s?.view === 'policy') {
      return html`<pga-policy .client=${client} .viewer=${viewer} .serviceId=${s.id} .serviceName=${s.name} @back=${back}></pga-policy>`;
    }
    return html`<pga-services .client=${client} .viewer=${viewer} @open-service=${(e: CustomEvent<NonNullable<PgaConsole['service']>>) => { this.service = e.detail; }}></pga-services>`;
  }

  override render() {
    const signedIn = this.token && this.client;
    return html`
      <header>
        <h1>pg-audit-gateway</h1>
        <nav aria-label="Console">
          <a href="/explorer">API explorer</a>
          ${signedIn && this.viewer ? this.renderViewer(this.viewer) : null}
          ${signedIn ? html`<button type="button" @click=${this.signOut}>Sign out</button>` : null}
        </nav>
      </header>
      <main>
        ${!signedIn ? html`<pga-sign-in .error=${this.signInError} @signed-in=${this.signedIn}></pga-sign-in>`
          : this.viewer ? this.renderScreen(this.client!, this.token!, this.viewer) : html`<p aria-live="polite">Loading…</p>`}
      </main>`;
  }
}
customElements.define('pga-console', PgaConsole);
