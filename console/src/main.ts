/** <pga-console>: signed out, the sign-in; signed in, the services and a service's events, and sign-out. */
import { css, html, LitElement } from 'lit';
import type { Client } from '@urql/core';
import { apiClient, tokenStore } from './api';
import './views/sign-in';
import './views/services';
import './views/events';
import './views/policy';

export class PgaConsole extends LitElement {
  static override properties = { token: { state: true }, service: { state: true } };
  token: string | null = tokenStore.get();
  /** The GraphQL client of `token`, made once per sign-in (not per render). */
  private client: Client | null = this.token ? apiClient(this.token) : null;
  /** The service shown, and which of its screens; null: the list of services. */
  service: { id: string; name: string; view: 'events' | 'policy' } | null = null;

  static override styles = css`
    :host { display: block; }
    header { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: 0.75rem 1rem;
      border-bottom: 1px solid var(--line); background: var(--panel); flex-wrap: wrap; }
    h1 { font-size: 1.1rem; margin: 0; }
    main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
    button { font: inherit; padding: 0.35rem 0.8rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer; }
    button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  `;

  private signedIn(e: CustomEvent<string>): void {
    tokenStore.set(e.detail);
    this.client = apiClient(e.detail);
    this.token = e.detail;
  }

  private signOut(): void {
    tokenStore.clear();
    this.client = null;
    this.token = null;
    this.service = null;
  }

  override render() {
    return html`
      <header>
        <h1>pg-audit-gateway</h1>
        ${this.token ? html`<button type="button" @click=${this.signOut}>Sign out</button>` : null}
      </header>
      <main>
        ${!this.token ? html`<pga-sign-in @signed-in=${this.signedIn}></pga-sign-in>`
          : this.service?.view === 'events' ? html`<pga-events .client=${this.client} .token=${this.token} .serviceId=${this.service.id} .serviceName=${this.service.name}
              @back=${() => { this.service = null; }}></pga-events>`
          : this.service?.view === 'policy' ? html`<pga-policy .client=${this.client} .serviceId=${this.service.id} .serviceName=${this.service.name}
              @back=${() => { this.service = null; }}></pga-policy>`
          : html`<pga-services .client=${this.client} @open-service=${(e: CustomEvent<NonNullable<PgaConsole['service']>>) => { this.service = e.detail; }}></pga-services>`}
      </main>`;
  }
}
customElements.define('pga-console', PgaConsole);
