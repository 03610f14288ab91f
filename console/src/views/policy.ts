/**
 * <pga-policy>: one audit policy of a service (the service level, a database, a role, or a role in a database): every setting with the API's own help text, a reason, a preview
 * (a dry run: the exact SQL the gateway would run and the changes it would record, nothing applied) and then Apply (enable when the policy is not
 * enabled, else configure at the version shown, so a change made meanwhile is refused, not overwritten). The answer's
 * refusals are shown by field; an applied change shows its revision's changes and the SQL run. An enabled policy's
 * drift (the server's settings against what the gateway applied) can be reconciled (put back) or adopted (taken as
 * the policy's), and the policy disabled, each previewed first. A token without write:policy sees it read-only.
 */
import type { Client } from '@urql/core';
import { css, html, LitElement } from 'lit';
import help from 'virtual:schema-help';
import { describeError } from '../api';
import { graphql } from '../gql';
import type { AuditLogClass, AuditLogLevel, AuditSettingsInput, ObjectAuditPrivilege, PolicyChangeFragment, PolicyQuery } from '../gql/graphql';
import { holds, type Viewer } from '../viewer';

const POLICY = graphql(`
  query Policy($serviceId: ID!, $database: String, $role: String) {
    auditPolicy(serviceId: $serviceId, database: $database, role: $role) {
      enabled version updatedAt updatedBy targetDatabases drift { setting applied live } driftChecked
      historyIntegrity { intact revisions headHash firstBroken { version problem } }
      objectAudit { auditorRole objects { schema relation privileges columns } }
      history(first: 50) { totalCount edges { node { id version action actor createdAt reason contentHash changes { setting from to } } } }
      settings { log logCatalog logClient logConnections logDisconnections logLevel logParameter logParameterMaxSize logRelation logRows logStatement logStatementOnce }
    }
  }
`);

/** What every policy mutation answers here: the SQL (run, or that would run), refusals, and the revision's changes. */
graphql(`
  fragment PolicyChange on AuditPolicyPayload { policy { enabled version } revision { action changes { setting from to } } statements
    plannedChanges { setting from to } userErrors { code field message } }
`);
const ENABLE = graphql(`
  mutation EnablePolicy($input: EnableAuditLoggingInput!) {
    enableAuditLogging(input: $input) { ...PolicyChange }
  }
`);
const CONFIGURE = graphql(`
  mutation ConfigurePolicy($input: ConfigureAuditLoggingInput!) {
    configureAuditLogging(input: $input) { ...PolicyChange }
  }
`);

/** The changes of a policy as a whole, each previewed (dryRun) before it is made: one mutation each, one input shape. */
const WHOLE_POLICY = {
  disable: { label: 'Disable audit logging', document: graphql(`
    mutation DisablePolicy($input: DisableAuditLoggingInput!) { disableAuditLogging(input: $input) { ...PolicyChange } }`) },
  reconcile: { label: 'Reconcile', document: graphql(`
    mutation ReconcilePolicy($input: ReconcileAuditPolicyInput!) { reconcileAuditPolicy(input: $input) { ...PolicyChange } }`) },
  adopt: { label: 'Adopt', document: graphql(`
    mutation AdoptPolicy($input: AdoptAuditPolicyInput!) { adoptAuditPolicy(input: $input) { ...PolicyChange } }`) },
} as const;
type WholePolicyChange = keyof typeof WHOLE_POLICY;

type Settings = NonNullable<PolicyQuery['auditPolicy']>['settings'];
type Change = { setting: string; from?: string | null; to?: string | null };
interface Outcome { what: string; dryRun: boolean; statements: string[]; changes: Change[];
  userErrors: { code: string; field?: string[] | null; message: string }[] }

const OBJECT_AUDIT = graphql(`
  mutation SetObjectAudit($input: SetObjectAuditInput!) {
    setObjectAudit(input: $input) { ...PolicyChange }
  }
`);

/** A relation of the object audit being edited: columns as typed (comma-separated; empty: the whole relation). */
interface ObjectRow { schema: string; relation: string; privileges: ObjectAuditPrivilege[]; columns: string }
const PRIVILEGES: readonly ObjectAuditPrivilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

const CLASSES: readonly AuditLogClass[] = ['READ', 'WRITE', 'FUNCTION', 'ROLE', 'DDL', 'MISC', 'MISC_SET'];
const LEVELS: readonly AuditLogLevel[] = ['LOG', 'NOTICE', 'WARNING', 'INFO', 'DEBUG1', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'DEBUG5'];
/** The switches of pgaudit (and the two session-logging settings), in the order of pgaudit's documentation. */
const FLAGS = ['logCatalog', 'logClient', 'logParameter', 'logRelation', 'logRows', 'logStatement', 'logStatementOnce', 'logConnections', 'logDisconnections'] as const;
/** Server-wide settings: a database or role policy cannot hold them (the API refuses them there). */
const SERVICE_ONLY = new Set<string>(['logConnections', 'logDisconnections']);
/** A new policy's starting point: what the gateway enables when no settings are given (PREDEFINED_SETTINGS, settings.descriptors.ts). */
const DEFAULTS: Settings = { log: ['WRITE', 'ROLE', 'DDL'], logCatalog: false, logClient: false, logConnections: false, logDisconnections: false, logLevel: 'LOG',
  logParameter: false, logParameterMaxSize: null, logRelation: true, logRows: false, logStatement: true, logStatementOnce: false };

export class PgaPolicy extends LitElement {
  static override properties = { client: { attribute: false }, viewer: { attribute: false }, serviceId: {}, serviceName: {}, policy: { state: true }, outcome: { state: true },
    error: { state: true }, busy: { state: true }, scope: { state: true }, objects: { state: true } };
  /** The object audit being edited (a database scope only). */
  objects: ObjectRow[] = [];
  /** The policy's scope: no database and no role is the service level. */
  scope: { database: string | null; role: string | null } = { database: null, role: null };
  client!: Client;
  viewer!: Viewer;
  serviceId = '';
  serviceName = '';
  policy: PolicyQuery['auditPolicy'] | undefined = undefined;
  outcome: Outcome | null = null;
  error = '';
  busy = false;

  static override styles = css`
    :host { display: block; }
    h2 { font-size: 1.25rem; }
    form.scope { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: end; margin-bottom: 1rem; }
    form.scope label { display: flex; flex-direction: column; font-weight: 600; font-size: 0.9rem; gap: 0.2rem; }
    fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 1rem; padding: 0.75rem 1rem; }
    legend { font-weight: 600; padding: 0 0.3rem; }
    .setting { margin: 0.4rem 0 0.8rem; }
    .setting label { font-weight: 600; }
    .help { color: var(--muted); font-size: 0.88rem; margin: 0.15rem 0 0 1.6rem; }
    .classes { display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; }
    input[type='text'], select, input[type='number'] { font: inherit; padding: 0.35rem; border: 1px solid var(--line); border-radius: 6px; }
    input[type='text'] { width: 100%; box-sizing: border-box; }
    input:focus-visible, select:focus-visible, button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    button { font: inherit; padding: 0.45rem 1rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer; margin-right: 0.5rem; }
    button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
    button[disabled] { opacity: 0.6; cursor: progress; }
    pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
    [role='alert'] { color: var(--bad); }
    .ok { color: var(--good); font-weight: 600; }
    table { border-collapse: collapse; }
    ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 3px solid var(--line); }
    ol.timeline > li { margin: 0 0 1rem; padding-left: 1rem; position: relative; }
    ol.timeline > li::before { content: ''; position: absolute; left: -0.5rem; top: 0.4rem; width: 0.7rem; height: 0.7rem; border-radius: 50%; background: var(--accent); }
    .meta { color: var(--muted); font-size: 0.9rem; }
    code.hash { font-size: 0.8rem; word-break: break-all; }
    .bad { color: var(--bad); font-weight: 600; }
    .note { color: var(--muted); }
    table.changes, table.drift { margin: 0.5rem 0; }
    th, td { text-align: left; padding: 0.3rem 0.6rem; border-bottom: 1px solid var(--line); }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    const result = await this.client.query(POLICY, { serviceId: this.serviceId, ...this.scope }).toPromise();
    if (result.error || !result.data) { this.error = result.error ? describeError(result.error) : 'no answer'; return; }
    this.policy = result.data.auditPolicy;
    this.objects = (this.policy?.objectAudit?.objects ?? []).map((o) => ({ schema: o.schema, relation: o.relation, privileges: [...o.privileges],
      columns: (o.columns ?? []).join(', ') }));
  }

  /** A mutation's answer shown (a preview's planned changes, or the revision's); after a change that was made, the policy read again. */
  private async answered(what: string, payload: PolicyChangeFragment, dryRun: boolean): Promise<void> {
    this.outcome = { what, dryRun, statements: payload.statements, changes: dryRun ? payload.plannedChanges : payload.revision?.changes ?? [],
      userErrors: payload.userErrors };
    if (!dryRun && payload.userErrors.length === 0) await this.load();
  }

  /** Disable, reconcile or adopt the policy shown, at the version shown: a preview, or the change. */
  private async changeWhole(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const [kind, mode] = ((e.submitter as HTMLButtonElement | null)?.value ?? '').split(':') as [WholePolicyChange, string];
    const action = WHOLE_POLICY[kind];
    if (!action || !this.policy) return;
    const dryRun = mode !== 'apply';
    const reason = String(new FormData(e.target as HTMLFormElement).get('reason') ?? '').trim() || null;
    this.busy = true;
    this.error = '';
    const input = { serviceId: this.serviceId, ...this.scope, reason, dryRun, expectedVersion: this.policy.version };
    const result = await this.client.mutation(action.document, { input }).toPromise();
    this.busy = false;
    if (result.error || !result.data) { this.error = result.error ? describeError(result.error) : 'no answer'; return; }
    await this.answered(action.label, Object.values(result.data)[0] as PolicyChangeFragment, dryRun);
  }

  /** setObjectAudit of the rows: a preview (dry run) or the change. */
  private async submitObjects(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const dryRun = (e.submitter as HTMLButtonElement | null)?.value !== 'apply';
    const reason = String(new FormData(e.target as HTMLFormElement).get('reason') ?? '').trim() || null;
    const objects = this.objects.map((o) => {
      const columns = o.columns.split(',').map((c) => c.trim()).filter((c) => c !== '');
      return { schema: o.schema.trim() || 'public', relation: o.relation.trim(), privileges: o.privileges, ...(columns.length > 0 ? { columns } : {}) };
    });
    this.busy = true;
    const result = await this.client.mutation(OBJECT_AUDIT, { input: { serviceId: this.serviceId, database: this.scope.database!, objects, reason, dryRun,
      ...(this.policy ? { expectedVersion: this.policy.version } : {}) } }).toPromise();
    this.busy = false;
    if (result.error || !result.data) { this.error = result.error ? describeError(result.error) : 'no answer'; return; }
    await this.answered('Apply object audit', result.data.setObjectAudit, dryRun);
  }

  private editRow(i: number, change: Partial<ObjectRow>): void {
    this.objects = this.objects.map((o, j) => (j === i ? { ...o, ...change } : o));
  }

  private renderObjects(canWrite: boolean) {
    return html`<section aria-labelledby="objects">
      <h3 id="objects">Object audit in ${this.scope.database}</h3>
      <p class="help">Statements on these relations are logged (pgaudit's object audit, through grants to a NOLOGIN auditor role${this.policy?.objectAudit ? html`: <code>${this.policy.objectAudit.auditorRole}</code>` : ''}), whatever the statement classes above say.</p>
      <form @submit=${this.submitObjects} aria-label="Object audit">
        ${this.objects.map((o, i) => html`<fieldset data-row=${i}><legend>Relation ${i + 1}</legend>
          <label>Schema <input type="text" .value=${o.schema} @input=${(ev: InputEvent) => this.editRow(i, { schema: (ev.target as HTMLInputElement).value })} /></label>
          <label>Relation <input type="text" .value=${o.relation} @input=${(ev: InputEvent) => this.editRow(i, { relation: (ev.target as HTMLInputElement).value })} /></label>
          <div class="classes" role="group" aria-label=${`Statements to log on relation ${i + 1}`}>${PRIVILEGES.map((p) => html`<label><input type="checkbox" .checked=${o.privileges.includes(p)}
            @change=${(ev: Event) => this.editRow(i, { privileges: (ev.target as HTMLInputElement).checked ? [...o.privileges, p] : o.privileges.filter((x) => x !== p) })} /> ${p}</label>`)}</div>
          <label>Only these columns (comma-separated; empty: all) <input type="text" .value=${o.columns} @input=${(ev: InputEvent) => this.editRow(i, { columns: (ev.target as HTMLInputElement).value })} /></label>
          <button type="button" @click=${() => { this.objects = this.objects.filter((_, j) => j !== i); }}>Remove relation ${i + 1}</button>
        </fieldset>`)}
        <p><button type="button" @click=${() => { this.objects = [...this.objects, { schema: 'public', relation: '', privileges: ['SELECT'], columns: '' }]; }}>Add a relation</button></p>
        ${canWrite ? html`<div class="setting"><label for="object-reason">Reason (kept in the history)</label> <input id="object-reason" name="reason" type="text" maxlength="500" /></div>
          <button type="submit" value="preview" ?disabled=${this.busy}>Preview object audit SQL</button>
          <button type="submit" value="apply" class="primary" ?disabled=${this.busy}>Apply object audit</button>` : null}
      </form>
    </section>`;
  }

  /** The form as AuditSettingsInput: every setting stated (a configure replaces the settings it is given). */
  private settingsOf(form: HTMLFormElement): AuditSettingsInput {
    const data = new FormData(form);
    const size = String(data.get('logParameterMaxSize') ?? '').trim();
    return {
      log: data.getAll('log').map(String) as AuditLogClass[],
      logLevel: String(data.get('logLevel')) as AuditLogLevel,
      logParameterMaxSize: size === '' ? null : Number(size),
      ...Object.fromEntries(FLAGS.filter((f) => form.elements.namedItem(f) !== null).map((f) => [f, data.get(f) === 'on'])),
    };
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const dryRun = (e.submitter as HTMLButtonElement | null)?.value !== 'apply';
    const reason = String(new FormData(form).get('reason') ?? '').trim() || null;
    const settings = this.settingsOf(form);
    this.busy = true;
    this.error = '';
    const enabled = this.policy?.enabled ?? false;
    // service level: the databases it applies to (empty: the whole server; sent as null, which also undoes a list)
    const targets = String(new FormData(form).get('targetDatabases') ?? '').split(',').map((d) => d.trim()).filter((d) => d !== '');
    const serviceLevel = this.scope.database === null && this.scope.role === null;
    const where = { serviceId: this.serviceId, database: this.scope.database, role: this.scope.role,
      ...(serviceLevel && (targets.length > 0 || (this.policy?.targetDatabases?.length ?? 0) > 0) ? { targetDatabases: targets.length > 0 ? targets : null } : {}) };
    const result = enabled
      ? await this.client.mutation(CONFIGURE, { input: { ...where, settings, reason, dryRun, expectedVersion: this.policy!.version } }).toPromise()
      : await this.client.mutation(ENABLE, { input: { ...where, settings, reason, dryRun } }).toPromise();
    this.busy = false;
    if (result.error || !result.data) { this.error = result.error ? describeError(result.error) : 'no answer'; return; }
    await this.answered(enabled ? 'Apply changes' : 'Enable audit logging',
      'configureAuditLogging' in result.data ? result.data.configureAuditLogging : result.data.enableAuditLogging, dryRun);
  }

  /** Opens the policy of the scope in the scope form. */
  private openScope(e: SubmitEvent): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const text = (name: string) => String(data.get(name) ?? '').trim() || null;
    const kind = String(data.get('kind'));
    this.scope = { database: kind === 'database' || kind === 'roleInDatabase' ? text('database') : null, role: kind === 'role' || kind === 'roleInDatabase' ? text('role') : null };
    this.policy = undefined;
    this.outcome = null;
    this.error = '';
    void this.load();
  }

  private scopeLabel(): string {
    const { database, role } = this.scope;
    return database && role ? `role ${role} in database ${database}` : database ? `database ${database}` : role ? `role ${role}` : 'the service level';
  }

  private back(): void {
    this.dispatchEvent(new CustomEvent('back', { bubbles: true, composed: true }));
  }

  private flag(name: (typeof FLAGS)[number], s: Settings) {
    return html`<div class="setting"><label><input type="checkbox" name=${name} ?checked=${s[name]} /> ${name}</label>
      <p class="help" id=${`help-${name}`}>${help[name]}</p></div>`;
  }

  private renderOutcome(o: Outcome) {
    if (o.userErrors.length > 0) {
      return html`<div role="alert"><p>Refused; nothing was changed:</p><ul>${o.userErrors.map((u) => html`<li>${u.message} (${u.code}${u.field ? `, ${u.field.join('.')}` : ''})</li>`)}</ul></div>`;
    }
    return html`<section aria-labelledby="outcome">
      <h3 id="outcome">${o.dryRun ? `Preview: what ${o.what} would do (nothing was applied)` : 'Applied'}</h3>
      ${o.statements.length > 0 ? html`<pre>${o.statements.join(';\n')};</pre>` : html`<p>No SQL${o.changes.length > 0 ? ' is run: only the history records it' : ': the server already has these settings'}.</p>`}
      ${o.changes.length > 0 ? html`<table class="changes"><caption>${o.dryRun ? 'The changes it would record in the history' : 'Changes recorded in the history'}</caption>
        <thead><tr><th scope="col">Setting</th><th scope="col">From</th><th scope="col">To</th></tr></thead>
        <tbody>${o.changes.map((c) => html`<tr><td>${c.setting}</td><td>${c.from ?? '—'}</td><td>${c.to ?? '—'}</td></tr>`)}</tbody></table>` : null}
      ${!o.dryRun ? html`<p class="ok">${o.what}: done. Audit logging is ${this.policy?.enabled ? 'enabled' : 'off'} here.</p>` : null}
    </section>`;
  }

  override render() {
    if (this.policy === undefined) return html`<p><button type="button" @click=${this.back}>← Services</button></p>${this.error ? html`<p role="alert">${this.error}</p>` : html`<p>Loading…</p>`}`;
    const s = this.policy?.settings ?? DEFAULTS;
    const enabled = this.policy?.enabled ?? false;
    const serviceLevel = this.scope.database === null && this.scope.role === null;
    const canWrite = holds(this.viewer, 'write:policy');
    return html`
      <p><button type="button" @click=${this.back}>← Services</button></p>
      <h2>Audit policy of ${this.serviceName}: ${this.scopeLabel()}</h2>
      <form class="scope" @submit=${this.openScope} aria-label="Which policy">
        <label>Scope <select name="kind">
          <option value="service" ?selected=${serviceLevel}>service level</option>
          <option value="database" ?selected=${this.scope.database !== null && this.scope.role === null}>a database</option>
          <option value="role" ?selected=${this.scope.role !== null && this.scope.database === null}>a role</option>
          <option value="roleInDatabase" ?selected=${this.scope.role !== null && this.scope.database !== null}>a role in a database</option>
        </select></label>
        <label>Database <input name="database" type="text" maxlength="63" .value=${this.scope.database ?? ''} /></label>
        <label>Role <input name="role" type="text" maxlength="63" .value=${this.scope.role ?? ''} /></label>
        <button type="submit">Open</button>
      </form>
      <p>${enabled ? html`Enabled (version ${this.policy!.version}, by ${this.policy!.updatedBy}).` : 'Audit logging is not enabled: Apply enables it with these settings.'}</p>
      ${this.error ? html`<p role="alert">${this.error}</p>` : null}
      <form @submit=${this.submit}>
        <fieldset><legend>Statement classes (log)</legend>
          <div class="classes">${CLASSES.map((c) => html`<label><input type="checkbox" name="log" value=${c} ?checked=${s.log.includes(c)} /> ${c}</label>`)}</div>
          <p class="help">${help.log}</p>
        </fieldset>
        <fieldset><legend>What each entry holds</legend>${FLAGS.filter((f) => serviceLevel || !SERVICE_ONLY.has(f)).map((f) => this.flag(f, s))}
          <div class="setting"><label for="level">logLevel</label> <select id="level" name="logLevel">${LEVELS.map((l) => html`<option ?selected=${l === s.logLevel}>${l}</option>`)}</select>
            <p class="help">${help.logLevel}</p></div>
          <div class="setting"><label for="max">logParameterMaxSize</label> <input id="max" name="logParameterMaxSize" type="number" min="0" .value=${s.logParameterMaxSize === null || s.logParameterMaxSize === undefined ? '' : String(s.logParameterMaxSize)} />
            <p class="help">${help.logParameterMaxSize}</p></div>
        </fieldset>
        ${serviceLevel ? html`<div class="setting"><label for="targets">Only in these databases (comma-separated; empty: the whole server)</label>
          <input id="targets" name="targetDatabases" type="text" maxlength="6500" .value=${(this.policy?.targetDatabases ?? []).join(', ')} />
          <p class="help">${help.targetDatabases}</p></div>` : null}
        ${canWrite ? html`<div class="setting"><label for="reason">Reason (kept in the history)</label> <input id="reason" name="reason" type="text" maxlength="500" /></div>
          <button type="submit" value="preview" ?disabled=${this.busy}>Preview SQL</button>
          <button type="submit" value="apply" class="primary" ?disabled=${this.busy}>${enabled ? 'Apply changes' : 'Enable audit logging'}</button>`
          : html`<p class="note">This token lacks the <code>write:policy</code> scope: it shows the policy but cannot change it.</p>`}
      </form>
      ${this.policy?.enabled ? this.renderWhole(this.policy, canWrite) : null}
      ${this.scope.database !== null && this.scope.role === null ? this.renderObjects(canWrite) : null}
      ${this.outcome ? this.renderOutcome(this.outcome) : null}
      ${this.policy ? this.renderHistory(this.policy) : null}`;
  }

  /** An enabled policy's drift (with Reconcile and Adopt when it drifted) and Disable, each previewed first. */
  private renderWhole(p: NonNullable<PolicyQuery['auditPolicy']>, canWrite: boolean) {
    const drifted = p.drift.length > 0;
    const button = (kind: WholePolicyChange, mode: 'preview' | 'apply') => html`<button type="submit" value=${`${kind}:${mode}`} ?disabled=${this.busy}
      class=${mode === 'apply' ? 'primary' : ''}>${mode === 'preview' ? `Preview ${WHOLE_POLICY[kind].label.toLowerCase()}` : WHOLE_POLICY[kind].label}</button>`;
    return html`<section aria-labelledby="drift">
      <h3 id="drift">Drift</h3>
      ${!p.driftChecked ? html`<p>Unknown: the server could not be read just now.</p>`
        : !drifted ? html`<p><span class="ok">In sync</span>: the server holds what the gateway applied.</p>`
        : html`<p><span class="bad">Drifted</span>: the server no longer holds what the gateway applied (changed by hand or by another tool).</p>
          <table class="drift"><thead><tr><th scope="col">Setting</th><th scope="col">Applied</th><th scope="col">On the server now</th></tr></thead>
          <tbody>${p.drift.map((d) => html`<tr><td>${d.setting}</td><td>${d.applied ?? '(unset)'}</td><td>${d.live ?? '(unset)'}</td></tr>`)}</tbody></table>
          <p class="help">Reconcile puts the applied settings back on the server; Adopt records what the server holds as the policy's settings (no SQL is run).</p>`}
      ${canWrite ? html`<form @submit=${this.changeWhole} aria-label="Change the policy as a whole">
        <div class="setting"><label for="whole-reason">Reason (kept in the history)</label> <input id="whole-reason" name="reason" type="text" maxlength="500" /></div>
        ${drifted ? html`<p>${button('reconcile', 'preview')} ${button('reconcile', 'apply')} ${button('adopt', 'preview')} ${button('adopt', 'apply')}</p>` : null}
        <p>${button('disable', 'preview')} ${button('disable', 'apply')}</p>
      </form>` : null}
    </section>`;
  }

  /** The policy's history, newest first, each revision with what it changed, and whether the hash chain holds. */
  private renderHistory(p: NonNullable<PolicyQuery['auditPolicy']>) {
    const integrity = p.historyIntegrity;
    return html`<section aria-labelledby="history">
      <h3 id="history">History (${p.history.totalCount} ${p.history.totalCount === 1 ? 'revision' : 'revisions'})</h3>
      <p>${integrity.intact
        ? html`<span class="ok">Intact</span>: the hash chain of ${integrity.revisions === 1 ? 'the one revision' : `all ${integrity.revisions} revisions`} holds; head <code class="hash">${integrity.headHash}</code>`
        : html`<span class="bad">Broken</span> at version ${integrity.firstBroken?.version} (${integrity.firstBroken?.problem}): the history was changed outside the gateway`}</p>
      <ol class="timeline">${p.history.edges.map(({ node: r }) => html`<li data-version=${r.version}>
        <strong>${r.action}</strong> <span class="meta">version ${r.version}, ${new Date(r.createdAt).toLocaleString()}, by ${r.actor}</span>
        ${r.reason ? html`<div>Reason: ${r.reason}</div>` : null}
        ${r.changes.length > 0 ? html`<ul>${r.changes.map((c) => html`<li><code>${c.setting}</code>: ${c.from ?? '—'} → ${c.to ?? '—'}</li>`)}</ul>` : null}
      </li>`)}</ol>
    </section>`;
  }
}
customElements.define('pga-policy', PgaPolicy);
