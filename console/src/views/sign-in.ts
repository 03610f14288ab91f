/** <pga-sign-in>: a token, checked by asking who it is (`viewer`, which any valid token may ask) before it is kept; fires `signed-in` with both. */
import { css, html, LitElement } from 'lit';
import { apiClient, describeError } from '../api';
import { VIEWER, type Viewer } from '../viewer';

export interface SignedIn { token: string; viewer: Viewer }

export class PgaSignIn extends LitElement {
  static override properties = { error: { attribute: false }, busy: { state: true } };
  /** Why the person is here again (a stored token that no longer works), shown until the next try. */
  error = '';
  busy = false;

  static override styles = css`
    :host { display: block; max-width: 32rem; }
    h2 { font-size: 1.25rem; }
    label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
    input { font: inherit; width: 100%; box-sizing: border-box; padding: 0.5rem; border: 1px solid var(--line); border-radius: 6px; }
    input:focus-visible, button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    p.hint { color: var(--muted); font-size: 0.9rem; }
    button { font: inherit; margin-top: 0.75rem; padding: 0.45rem 1rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
    button[disabled] { opacity: 0.6; cursor: progress; }
    [role='alert'] { color: var(--bad); margin-top: 0.75rem; }
  `;

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const token = (new FormData(e.target as HTMLFormElement).get('token') ?? '').toString().trim();
    if (!token) { this.error = 'Enter an API token.'; return; }
    this.busy = true;
    this.error = '';
    const result = await apiClient(token).query(VIEWER, {}).toPromise();
    this.busy = false;
    if (result.error || !result.data) { this.error = result.error ? describeError(result.error) : 'no answer'; return; }
    const detail: SignedIn = { token, viewer: result.data.viewer };
    this.dispatchEvent(new CustomEvent('signed-in', { detail, bubbles: true, composed: true }));
  }

  override render() {
    return html`
      <h2>Sign in</h2>
      <form @submit=${this.submit}>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required />
        <p class="hint">Issued with <code>pg-audit-gateway admin create-token</code>. Kept in this tab only.</p>
        <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Checking…' : 'Sign in'}</button>
        ${this.error ? html`<p role="alert">${this.error}</p>` : null}
      </form>`;
  }
}
customElements.define('pga-sign-in', PgaSignIn);
