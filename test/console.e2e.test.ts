/**
 * The browser console in a real Chromium (Debian's /usr/bin/chromium driven by playwright-core; never a browser
 * download), served by the real HTTP server from the build (`npm run build:console`, run by scripts/test.sh),
 * against the real gateway database and PostgreSQL servers: sign in (a wrong token refused, then by keyboard),
 * the services with a refused one's reason, at 375 px too; the Content-Security-Policy holds (no violation, no
 * error in the page); the token is in sessionStorage only; axe-core finds no serious or critical violation.
 * Screenshots: .local/console/*.png.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CONSOLE_CSP } from '../src/api/console-route';
import type { AuditEventDocument } from '../src/modules/audit-events/event.document';
import { createTenant, env, indexEvents, ingestOnce, resetServer, show, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { waitForCsvlog } from './support/pgaudit-log';
import { serverState } from './support/unchanged';
import { startHttp } from './support/http';
import { launchChromium, SHOTS, watchedPage } from './support/browser';


let g: TestGateway;
let http: Awaited<ReturnType<typeof startHttp>>;
let browser: Browser;
let tenant: Tenant;
let oldServiceId: string;
let wantedEvent: AuditEventDocument;

beforeAll(async () => {
  g = await startTestGateway();
  tenant = await createTenant(g, { serviceUrl: urls.pgaudit });
  // a second service of the same project on PostgreSQL 10: refused, with the reason
  oldServiceId = (await g.gateway.tenancy.registerService(tenant.projectId, 'zz-legacy-pg10', urls.pg10)).id;
  // 60 events of the last hour, and one a person would search for
  const events = await indexEvents(g, tenant, 60, { database: 'app' });
  const wanted = wantedEvent = { ...events[0]!, id: 'e2e-wanted-0001', timestamp: new Date(Date.now() - 30_000).toISOString(), class: 'WRITE', command: 'UPDATE',
    objectType: 'TABLE', objectName: 'hr.employee', statement: 'update hr.employee set salary = salary * 1.1 where id = 7' };
  expect((await g.gateway.eventStore!.bulkIndex([wanted])).rejected).toEqual([]);
  await g.gateway.eventStore!.refresh();
  http = await startHttp(g, 1 << 20);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await g?.close();
  await sql(urls.pgaudit, 'DROP TABLE IF EXISTS e2e_console_salaries, e2e_console_payroll');
  await resetServer(urls.pgaudit);   // the policy test enabled audit logging on the shared server
});

/** The console in a page that records every error it logs, every uncaught exception and every CSP violation. */
async function openConsole(width = 1280): Promise<{ page: Page; problems: string[] }> {
  const { page, problems } = await watchedPage(browser, width);
  await page.goto(`${http.base}/`);
  return { page, problems };
}

/** Signs in with `token` by mouse (the keyboard test signs in by keyboard). */
async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The element that has the keyboard focus, through the shadow roots: tag|aria-label|text|name. */
const FOCUSED = `(() => { let a = document.activeElement; while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a ? [a.tagName, a.getAttribute('aria-label') || '', (a.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 100), a.getAttribute('name') || ''].join('|') : ''; })()`;

/** Tab (only the Tab key) until the focused element matches: every control a person needs must be reachable so. */
async function tabTo(page: Page, pattern: RegExp, max = 120): Promise<string> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate<string>(FOCUSED);
    if (pattern.test(focused)) return focused;
  }
  throw new Error(`no element matching ${pattern} within ${max} presses of Tab`);
}

async function axe(page: Page): Promise<{ id: string; impact: string; nodes: number }[]> {
  // evaluated through the DevTools protocol, not as a page script: the console's CSP stays as served
  await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  return page.evaluate('axe.run().then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })))');
}

describe('the console is served as static files with a strict policy', () => {
  it('/ is the console, assets are immutable, every answer carries the CSP; another method or file is refused', async () => {
    const index = await fetch(`${http.base}/`, { headers: { 'accept-encoding': 'gzip' } });
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);   // no inline script
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${http.base}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect((await fetch(`${http.base}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${http.base}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
    // a browser opening /graphql gets the console, not Apollo's landing page (which loads from a CDN)
    const page = await fetch(`${http.base}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/');
    const op = await fetch(`${http.base}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'text/html, application/json', 'apollo-require-preflight': 'true', authorization: `Bearer ${tenant.token}` } });
    expect(await op.json()).toMatchObject({ data: { __typename: 'Query' } });
    const post = await fetch(`${http.base}/`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('sign in and the services', () => {
  it('a wrong token is refused with the gateway\'s reason and nothing is kept', async () => {
    const { page, problems } = await openConsole();
    await page.getByLabel('API token').fill('pga_not_a_token_0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('UNAUTHENTICATED');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'sign-in-refused.png'), fullPage: true });
    // the refusal's 401 is logged by Chromium as a failed resource load: nothing else
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    await page.context().close();
  });

  it('by keyboard: the token, Enter, then the services with each refusal\'s reason; the token only in sessionStorage', async () => {
    const { page, problems } = await openConsole();
    await page.screenshot({ path: path.join(SHOTS, 'sign-in.png'), fullPage: true });
    await page.keyboard.press('Tab');   // the header's link to the API explorer, then the token field
    expect(await page.evaluate('document.activeElement.shadowRoot.activeElement.textContent')).toBe('API explorer');
    await page.keyboard.press('Tab');
    await page.keyboard.type(tenant.token);
    await page.keyboard.press('Enter');
    const rows = page.locator('pga-services tbody tr');
    await page.getByRole('heading', { name: /Services/ }).waitFor();
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    const ok = page.locator(`tr[data-service="${tenant.serviceId}"]`);
    const old = page.locator(`tr[data-service="${oldServiceId}"]`);
    expect(await ok.textContent()).toContain('Eligible');
    expect(await old.textContent()).toContain('Not eligible');
    expect(await old.textContent()).toMatch(/PostgreSQL 11 or newer: .*10/);
    expect(await page.evaluate("sessionStorage.getItem('pga.token')")).toBe(tenant.token);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(page.url()).toBe(`${http.base}/`);
    await page.screenshot({ path: path.join(SHOTS, 'services.png'), fullPage: true });
    const violations = (await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
    // sign out forgets the token
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.context().close();
  });

  it('a service\'s events: newest first, 50 a page then older ones, a text search by part of a name; keyboard and axe clean', async () => {
    const { page, problems } = await openConsole();
    await page.getByLabel('API token').fill(tenant.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const clicked = performance.now();
    await page.getByRole('link', { name: /^Audit events of service-/ }).click();
    await page.getByRole('heading', { name: /Audit events of service-/ }).waitFor();
    const rows = page.locator('pga-events tbody tr');
    await rows.nth(49).waitFor();
    // a figure for the closing note, not a target: the first page of events, from the click to the 50th row shown
    console.log(`console: first page of events ${Math.round(performance.now() - clicked)} ms after the click (local gateway, 61 events)`);
    expect(await rows.count()).toBe(50);
    expect(await rows.first().getAttribute('data-event')).toBe('e2e-wanted-0001');   // the newest
    expect(await page.getByText('61 events, 50 shown').count()).toBe(1);
    await page.getByRole('button', { name: 'Older events' }).click();
    await rows.nth(60).waitFor();
    expect(await rows.count()).toBe(61);
    await page.screenshot({ path: path.join(SHOTS, 'events.png'), fullPage: true });
    // the charts: by class (click one to keep it), over time (click a bar to keep its interval)
    const charts = page.locator('pga-event-charts');
    await charts.getByRole('button', { name: /^WRITE 1 events/ }).click();
    await page.getByText('1 event, 1 shown').waitFor();
    expect(await rows.first().getAttribute('data-event')).toBe('e2e-wanted-0001');
    await page.getByRole('button', { name: 'Show all' }).click();
    await page.getByText('61 events, 50 shown').waitFor();
    await charts.getByRole('button', { name: /^READ 60 events/ }).waitFor();   // the charts load apart from the table
    const plot = charts.locator('.u-over');
    const box = (await plot.boundingBox())!;
    // the newest interval (15 min at 24 h) that holds an event: the events end a minute before this file began, so a
    // 15-minute boundary may have passed since, leaving the newest interval empty (read off the slider, bar by bar)
    const slider = charts.getByRole('slider');
    const bars = Number(await slider.getAttribute('aria-valuemax')) + 1;
    await slider.focus();
    await page.keyboard.press('End');
    let back = 0;
    while (/: 0 events$/.test((await slider.getAttribute('aria-valuetext')) ?? '') && back < 3) { await page.keyboard.press('ArrowLeft'); back++; }
    expect(back).toBeLessThan(3);
    await plot.click({ position: { x: box.width - 2 - back * (box.width / bars), y: box.height / 2 } });
    await page.getByText(/^Narrowed to/).waitFor();
    await page.getByText(/^\d+ events?, \d+ shown$/).waitFor();
    const narrowed = await rows.count();
    expect(narrowed).toBeGreaterThanOrEqual(1);
    expect(narrowed).toBeLessThanOrEqual(16);   // events a minute apart: at most 15 in a 15-minute interval, and the wanted one
    await page.screenshot({ path: path.join(SHOTS, 'events-narrowed.png'), fullPage: true });
    await page.getByRole('button', { name: 'Show all' }).click();
    await page.getByText('61 events, 50 shown').waitFor();
    // export what is shown: NDJSON, checked complete by its last line
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
    const lines = readFileSync((await download.path())!, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(62);
    expect(lines.at(-1)).toMatchObject({ '@export': { status: 'complete', events: 61 } });
    expect(new Set(lines.slice(0, -1).map((l) => l.id)).size).toBe(61);
    expect(download.suggestedFilename()).toMatch(/^audit-events-service-.*\.ndjson$/);
    await page.getByText('Exported 61 events, complete.').waitFor();
    // what a person types: a part of a qualified name
    await page.getByLabel('Search statements').fill('employee');
    await page.getByLabel('Search statements').press('Enter');
    await page.getByText('1 event, 1 shown').waitFor();
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('update hr.employee set salary');
    // one event whole, in a dialog that Escape closes
    await rows.first().getByRole('button', { name: /details$/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Audit event' });
    await dialog.getByText('update hr.employee set salary = salary * 1.1 where id = 7').waitFor();
    expect(await dialog.textContent()).toContain('TABLE hr.employee');
    await page.screenshot({ path: path.join(SHOTS, 'event-detail.png'), fullPage: true });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'events-search.png'), fullPage: true });
    // the live tail, with the search's text: an event indexed while it listens arrives, one that does not match does not
    await page.getByRole('button', { name: 'Start live tail' }).click();
    await page.getByText(/^Listening/).waitFor();
    const now = new Date().toISOString();
    const base = { ...wantedEvent, timestamp: now, statementId: 900 };
    expect((await g.gateway.eventStore!.bulkIndex([{ ...base, id: 'e2e-tail-match-01', statement: 'delete from hr.employee where id = 9' },
      { ...base, id: 'e2e-tail-other-01', objectName: 'public.t', statement: 'delete from public.t' }], [], now)).rejected).toEqual([]);
    const tailed = page.locator('pga-live-tail li[data-event="e2e-tail-match-01"]');
    await tailed.waitFor({ timeout: 20_000 });
    expect(await tailed.textContent()).toContain('delete from hr.employee where id = 9');
    expect(await page.locator('pga-live-tail li').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'live-tail.png'), fullPage: true });
    await page.getByRole('button', { name: 'Stop live tail' }).click();
    await page.getByRole('button', { name: 'Resume live tail' }).waitFor();
    await page.getByRole('button', { name: '← Services' }).click();
    await page.getByRole('heading', { name: /Services/ }).waitFor();
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('the policy: the schema\'s help, a preview of the exact SQL that changes nothing, then Enable applies it and shows the change', async () => {
    const { page, problems } = await openConsole();
    await page.getByLabel('API token').fill(tenant.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: /^Audit policy of service-/ }).click();
    await page.getByText('Audit logging is not enabled').waitFor();
    expect((await page.locator('pga-policy #help-logParameter').textContent())!.length).toBeGreaterThan(20);   // AuditSettingsInput's description
    await page.getByLabel('READ', { exact: true }).check();
    await page.getByLabel('Reason (kept in the history)').fill('SOX: reads of the payroll tables');
    const before = await serverState(urls.pgaudit);
    await page.getByRole('button', { name: 'Preview SQL' }).click();
    await page.getByRole('heading', { name: /^Preview/ }).waitFor();
    const preview = (await page.locator('pga-policy pre').textContent())!;
    expect(preview).toContain("ALTER SYSTEM SET pgaudit.log = 'read,write,role,ddl';");
    expect(preview).toContain('SELECT pg_reload_conf();');
    expect(await serverState(urls.pgaudit)).toEqual(before);   // a preview applies nothing
    await page.screenshot({ path: path.join(SHOTS, 'policy-preview.png'), fullPage: true });
    // only in some databases (targetDatabases): previewed as ALTER DATABASE, not ALTER SYSTEM; then back to the whole server
    await page.getByLabel(/^Only in these databases/).fill('postgres');
    await page.getByRole('button', { name: 'Preview SQL' }).click();
    await page.locator('pga-policy pre').filter({ hasText: 'ALTER DATABASE' }).waitFor();
    const targeted = (await page.locator('pga-policy pre').textContent())!;
    expect(targeted).toMatch(/ALTER DATABASE "postgres" SET pgaudit\.log = 'read,write,role,ddl'/);
    expect(targeted).not.toContain('ALTER SYSTEM SET pgaudit.log ');
    expect(await serverState(urls.pgaudit)).toEqual(before);
    await page.getByLabel(/^Only in these databases/).fill('');
    await page.getByRole('button', { name: 'Enable audit logging' }).click();
    await page.getByRole('heading', { name: 'Applied' }).waitFor();
    expect(await page.locator('pga-policy table').textContent()).toContain('log');
    await page.getByText(/^Enabled \(version 1/).waitFor();
    // the history: the revision with its reason and changes, and the hash chain intact
    const revision = page.locator('pga-policy ol.timeline > li[data-version="1"]');
    await revision.waitFor();
    expect(await revision.textContent()).toContain('Reason: SOX: reads of the payroll tables');
    expect(await revision.textContent()).toMatch(/log: .*→ .*read/);
    expect(await page.locator('pga-policy').getByText('Intact').count()).toBe(1);
    const [{ pgaudit_log: log }] = await sql<{ pgaudit_log: string }>(urls.pgaudit, "SELECT current_setting('pgaudit.log') AS pgaudit_log");
    expect(log.split(',').map((c) => c.trim().toLowerCase()).sort()).toEqual(['ddl', 'read', 'role', 'write']);
    expect((await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'policy-applied.png'), fullPage: true });
    // another scope: a database's policy, without the server-wide settings, previewed as ALTER DATABASE
    await page.getByLabel('Scope').selectOption('database');
    await page.getByLabel('Database', { exact: true }).fill('postgres');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('heading', { name: /: database postgres$/ }).waitFor();
    await page.getByText('Audit logging is not enabled').waitFor();
    expect(await page.getByLabel('logConnections').count()).toBe(0);
    const beforeDb = await serverState(urls.pgaudit);
    await page.getByRole('button', { name: 'Preview SQL' }).click();
    await page.getByRole('heading', { name: /^Preview/ }).waitFor();
    expect(await page.locator('pga-policy pre').textContent()).toMatch(/ALTER DATABASE "?postgres"? SET pgaudit\.log = /);
    expect(await serverState(urls.pgaudit)).toEqual(beforeDb);
    await page.screenshot({ path: path.join(SHOTS, 'policy-database-preview.png'), fullPage: true });
    // object audit in that database: an unknown relation is refused by field; a real one previews its grants
    await sql(urls.pgaudit, 'CREATE TABLE IF NOT EXISTS e2e_console_salaries (id int, amount int)');
    await page.getByRole('button', { name: 'Add a relation' }).click();
    await page.getByLabel('Relation', { exact: true }).fill('e2e_console_nope');
    await page.getByRole('button', { name: 'Preview object audit SQL' }).click();
    const refusal = page.locator('pga-policy [role="alert"]');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('nothing was changed');
    await page.getByLabel('Relation', { exact: true }).fill('e2e_console_salaries');
    await page.getByRole('group', { name: 'Statements to log on relation 1' }).getByLabel('UPDATE').check();
    await page.getByRole('button', { name: 'Preview object audit SQL' }).click();
    await page.locator('pga-policy pre').filter({ hasText: 'e2e_console_salaries' }).waitFor();
    const grants = (await page.locator('pga-policy pre').textContent())!;
    expect(grants).toMatch(/GRANT .*SELECT.* ON .*e2e_console_salaries/);
    expect(grants).toMatch(/GRANT .*UPDATE.* ON .*e2e_console_salaries/);
    expect(await serverState(urls.pgaudit)).toEqual(beforeDb);
    await page.screenshot({ path: path.join(SHOTS, 'object-audit-preview.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('the whole loop: after enabling in the console, a workload on the server is ingested and found in the table and the charts', async () => {
    // the policy test enabled READ, WRITE, ROLE, DDL at the service level of this tenant's server
    await sql(urls.pgaudit, 'DROP TABLE IF EXISTS e2e_console_payroll');
    await sql(urls.pgaudit, 'CREATE TABLE e2e_console_payroll (id int, salary int)');
    await sql(urls.pgaudit, 'INSERT INTO e2e_console_payroll VALUES (1, 100), (2, 200)');
    await sql(urls.pgaudit, 'SELECT sum(salary) FROM e2e_console_payroll');
    await waitForCsvlog('SELECT sum(salary) FROM e2e_console_payroll');
    await ingestOnce(g, tenant.serviceId, env('TEST_PG15_PGAUDIT_LOG_DIR'));
    const { page, problems } = await openConsole();
    // the first page and charts (no text yet) answer late, as under load: the search's answers must stay shown, not
    // be overwritten by these when they come (a race the console once lost)
    const late: string[] = [];
    await page.route('**/graphql', async (route) => {
      const body = route.request().postDataJSON() as { operationName?: string; variables?: { filter?: { text?: string } } } | null;
      const op = body?.operationName ?? '';
      if ((op === 'Events' || op === 'EventStats') && !body?.variables?.filter?.text && !late.includes(op)) {
        late.push(op);
        await new Promise((r) => setTimeout(r, 2000));
      }
      await route.continue();
    });
    await page.getByLabel('API token').fill(tenant.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: /^Audit events of service-/ }).click();
    await page.getByLabel('Search statements').fill('e2e_console_payroll');
    await page.getByLabel('Search statements').press('Enter');
    const rows = page.locator('pga-events tbody tr');
    await page.getByText(/^[3-9] events, [3-9] shown$/).waitFor();
    const text = (await rows.allTextContents()).join('\n');
    expect(text).toContain('SELECT sum(salary) FROM e2e_console_payroll');
    expect(text).toContain('INSERT INTO e2e_console_payroll');
    expect(text).toContain('CREATE TABLE e2e_console_payroll');
    const charts = page.locator('pga-event-charts');
    for (const cls of ['READ', 'WRITE', 'DDL']) await charts.getByRole('button', { name: new RegExp(`^${cls} \\d+ events`) }).waitFor();
    // the late answers have come by now, and were dropped
    expect(late.sort()).toEqual(['EventStats', 'Events']);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await page.getByText(/^[3-9] events, [3-9] shown$/).count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'workload-events.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('at 375 px wide: every service and reason readable without sideways scrolling', async () => {
    const { page, problems } = await openConsole(375);
    await page.getByLabel('API token').fill(tenant.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator(`tr[data-service="${oldServiceId}"]`).waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await page.screenshot({ path: path.join(SHOTS, 'services-375.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('by keyboard alone, drift and disable, and tokens that may do less', () => {
  it('every screen by keyboard: services, filters on fields, top values by command, the histogram as a slider, an event, the policy\'s preview with its changes', async () => {
    const { page, problems } = await openConsole();
    await tabTo(page, /^INPUT\|.*\|token$/);
    await page.keyboard.type(tenant.token);
    await page.keyboard.press('Enter');
    await tabTo(page, /Audit events of service-/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Audit events of service-/ }).waitFor();
    const rows = page.locator('pga-events tbody tr');
    await rows.nth(49).waitFor();
    // the field filters: opened, typed and submitted by keyboard
    await tabTo(page, /^SUMMARY\|.*Filter by field/);
    await page.keyboard.press('Enter');
    await tabTo(page, /\|commands$/);
    await page.keyboard.type('UPDATE');
    await tabTo(page, /\|objectNames$/);
    await page.keyboard.type('hr.employee');
    await page.keyboard.press('Enter');
    await page.getByText(/^[1-9] events?, [1-9] shown$/).waitFor();   // (waitForFunction would evaluate a string: the CSP refuses it)
    const filtered = await rows.allTextContents();
    expect(filtered.length).toBeGreaterThanOrEqual(1);
    for (const row of filtered) expect(row).toMatch(/UPDATE.*hr\.employee/s);
    expect(await rows.first().getAttribute('data-event')).not.toBeNull();
    // the top values by command, chosen with the arrow key; a value kept with Enter
    const charts = page.locator('pga-event-charts');
    await tabTo(page, /^SELECT\|Top values by/);
    await page.keyboard.press('ArrowDown');
    await charts.getByRole('button', { name: /^UPDATE \d+ events, show only this command$/ }).waitFor();
    await tabTo(page, /^BUTTON\|\|UPDATE \d+ events, show only this command/);
    await page.keyboard.press('Enter');
    await page.getByText(/^Narrowed to commands UPDATE/).waitFor();
    await tabTo(page, /^BUTTON\|\|Show all/);
    await page.keyboard.press('Enter');
    await page.getByText(/^Narrowed to/).waitFor({ state: 'detached' });
    // the histogram as a slider: End picks the newest interval, Enter narrows to it
    await tabTo(page, /^DIV\|Events over time/);
    await page.keyboard.press('End');
    expect(await charts.getByRole('slider').getAttribute('aria-valuetext')).toMatch(/\d+ events?$/);
    await page.keyboard.press('Enter');
    await page.getByText(/^Narrowed to .* – /).waitFor();
    await tabTo(page, /^BUTTON\|\|Show all/);
    await page.keyboard.press('Enter');
    await page.getByText(/^Narrowed to/).waitFor({ state: 'detached' });
    // one event whole, opened with Enter, closed with Escape
    await tabTo(page, /^BUTTON\|Event of .*: details/);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Audit event' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.screenshot({ path: path.join(SHOTS, 'events-keyboard.png'), fullPage: true });
    expect((await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    // back, then the policy: a setting toggled with Space, previewed with Enter: the SQL and the changes it would record
    await tabTo(page, /^BUTTON\|\|← Services/);
    await page.keyboard.press('Enter');
    await tabTo(page, /Audit policy of service-/);
    await page.keyboard.press('Enter');
    await page.getByText(/^Enabled \(version/).waitFor();
    const before = await serverState(urls.pgaudit);
    await tabTo(page, /^INPUT\|.*\|logRows$/);
    await page.keyboard.press('Space');
    await tabTo(page, /^BUTTON\|\|Preview SQL/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Preview: what Apply changes would do/ }).waitFor();
    expect(await page.locator('pga-policy pre').textContent()).toContain("ALTER SYSTEM SET pgaudit.log_rows = 'on';");
    expect(await page.locator('pga-policy table.changes').textContent()).toMatch(/pgaudit\.log_rows\s*off\s*on/);
    expect(await serverState(urls.pgaudit)).toEqual(before);
    await page.screenshot({ path: path.join(SHOTS, 'policy-keyboard-preview.png'), fullPage: true });
    expect((await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('drift made by hand shows on the services and the policy; reconcile and disable are previewed (nothing changes), then made', async () => {
    // the policy test enabled the service level with pgaudit.log_rows off; a person turns it on by hand
    await sql(urls.pgaudit, "ALTER SYSTEM SET pgaudit.log_rows = 'on'");
    await sql(urls.pgaudit, 'SELECT pg_reload_conf()');
    for (let i = 0; i < 100 && (await show(urls.pgaudit, 'pgaudit.log_rows')) !== 'on'; i++) await new Promise((r) => setTimeout(r, 25));
    const { page, problems } = await openConsole();
    await signIn(page, tenant.token);
    const row = page.locator(`tr[data-service="${tenant.serviceId}"]`);
    await row.getByText('Drifted').waitFor();
    expect(await row.textContent()).toMatch(/service level: pgaudit\.log_rows off → on/);
    expect(await page.locator(`tr[data-service="${oldServiceId}"]`).textContent()).toContain('no policy');
    await page.screenshot({ path: path.join(SHOTS, 'services-drift.png'), fullPage: true });
    await page.getByRole('link', { name: /^Audit policy of service-/ }).click();
    const drift = page.locator('pga-policy table.drift');
    await drift.waitFor();
    expect(await drift.textContent()).toMatch(/pgaudit\.log_rows\s*off\s*on/);
    const drifted = await serverState(urls.pgaudit);
    await page.getByRole('button', { name: 'Preview reconcile' }).click();
    await page.getByRole('heading', { name: 'Preview: what Reconcile would do (nothing was applied)' }).waitFor();
    expect(await page.locator('pga-policy pre').textContent()).toContain("ALTER SYSTEM SET pgaudit.log_rows = 'off';");
    expect(await page.locator('pga-policy table.changes').textContent()).toMatch(/pgaudit\.log_rows\s*on\s*off/);
    expect(await serverState(urls.pgaudit)).toEqual(drifted);
    await page.screenshot({ path: path.join(SHOTS, 'policy-drift.png'), fullPage: true });
    await page.getByRole('button', { name: 'Reconcile', exact: true }).click();
    await page.getByText('Reconcile: done.', { exact: false }).waitFor();
    await page.locator('pga-policy').getByText('In sync').waitFor();
    expect(await show(urls.pgaudit, 'pgaudit.log_rows')).toBe('off');
    // disable: previewed first (the server keeps its settings), then made
    const enabled = await serverState(urls.pgaudit);
    await page.getByRole('button', { name: 'Preview disable audit logging' }).click();
    await page.getByRole('heading', { name: 'Preview: what Disable audit logging would do (nothing was applied)' }).waitFor();
    expect(await page.locator('pga-policy pre').textContent()).toContain('ALTER SYSTEM RESET pgaudit.log;');
    expect(await page.locator('pga-policy table.changes').textContent()).toMatch(/pgaudit\.log\s*read,write,role,ddl\s*none/);
    expect(await serverState(urls.pgaudit)).toEqual(enabled);
    await page.screenshot({ path: path.join(SHOTS, 'policy-disable-preview.png'), fullPage: true });
    await page.getByRole('button', { name: 'Disable audit logging', exact: true }).click();
    await page.getByText('Audit logging is not enabled').waitFor();
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('none');
    const history = await page.locator('pga-policy ol.timeline').textContent();
    expect(history).toMatch(/DISABLED[\s\S]*RECONCILED[\s\S]*ENABLED/);
    expect((await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('a token that may do less: what it may do is shown, and the console offers only that', async () => {
    const t = g.gateway.tenancy;
    const eventsOnly = await t.createToken(tenant.projectId, `e2e-events-only-${Date.now()}`, 'avnadmin', { scopes: 'read:events' });
    const { page, problems } = await openConsole();
    await signIn(page, eventsOnly.token);
    await page.getByText(/lacks the read:policy scope/).waitFor();
    await page.locator('pga-console summary').click();
    const card = page.locator('pga-console .card');
    await card.waitFor();
    expect(await card.textContent()).toMatch(/acting as database role avnadmin/);
    expect(await card.locator('dt').allTextContents()).toEqual(['read:events']);
    expect(await card.locator('dd').textContent()).toContain('audit and session events');
    await page.screenshot({ path: path.join(SHOTS, 'token-events-only.png'), fullPage: true });
    await page.locator('pga-console summary').click();
    await page.getByLabel('Service id').fill(tenant.serviceId);
    await page.getByRole('button', { name: 'Open its events' }).click();
    await page.locator('pga-events tbody tr').nth(9).waitFor();
    expect((await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();

    // a read-only console token: the policy is shown, nothing offers to change it
    const readOnly = await t.createToken(tenant.projectId, `e2e-read-only-${Date.now()}`, 'avnadmin', { scopes: 'read:events,read:policy' });
    const second = await openConsole();
    await signIn(second.page, readOnly.token);
    await second.page.getByRole('link', { name: /^Audit policy of service-/ }).click();
    await second.page.getByText(/lacks the write:policy scope/).waitFor();
    expect(await second.page.getByRole('button', { name: /Preview|Enable|Apply|Disable|Reconcile|Adopt/ }).count()).toBe(0);
    expect(second.problems).toEqual([]);
    await second.page.context().close();
  });
});
