/**
 * The API explorer (/explorer: GraphiQL, console/src/explorer/) in a real Chromium (Debian's /usr/bin/chromium
 * driven by playwright-core), served by the real HTTP server from the build (`npm run build:console`), against the
 * real gateway: the console's token from sessionStorage runs a query typed and completed in the editor; a token
 * without the scope and a wrong token get the gateway's own errors; the schema is the built one (no introspection
 * request, ever); the console's Content-Security-Policy holds unchanged (no violation, no error in the page);
 * localStorage never holds the token; axe-core finds no serious or critical violation. Screenshot:
 * .local/console/explorer.png.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CONSOLE_CSP } from '../src/api/console-route';
import { createTenant, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { startHttp } from './support/http';
import { launchChromium, SHOTS, watchedPage } from './support/browser';


let g: TestGateway;
let http: Awaited<ReturnType<typeof startHttp>>;
let browser: Browser;
let tenant: Tenant;

beforeAll(async () => {
  g = await startTestGateway();
  tenant = await createTenant(g, { serviceUrl: urls.pgaudit });
  http = await startHttp(g, 1 << 20);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await g?.close();
});

/**
 * /explorer with `token` in sessionStorage as the console leaves it (none: signed out), recording every error the
 * page logs, every uncaught exception, every CSP violation, and the body of every request to /graphql.
 */
async function openExplorer(token: string | null): Promise<{ page: Page; problems: string[]; graphqlBodies: string[] }> {
  const { page, problems } = await watchedPage(browser);
  const graphqlBodies: string[] = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/graphql') graphqlBodies.push(r.postData() ?? `${r.method()} ${r.url()}`); });
  if (token) await page.addInitScript(`sessionStorage.setItem('pga.token', ${JSON.stringify(token)})`);
  await page.goto(`${http.base}/explorer`);
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  return { page, problems, graphqlBodies };
}

/** A CodeMirror editor's whole text (the editor draws only the lines in view): 'query' or 'response'. */
const editorText = (page: Page, which: 'query' | 'response') =>
  page.evaluate<string>(`document.querySelector('.graphiql-${which === 'query' ? 'query-editor' : 'response'} .CodeMirror').CodeMirror.getValue()`);

/**
 * Waits until `expression` (page code) is true, asking from here: page.waitForFunction would evaluate it in the
 * page by eval, which the page's policy refuses (as it should).
 */
async function until(page: Page, expression: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate<boolean>(expression))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Replaces the query by `text`, typed as a person would (CodeMirror closes brackets as they are opened). */
async function typeQuery(page: Page, text: string): Promise<void> {
  await page.locator('.graphiql-query-editor .CodeMirror').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text);
}

/** Runs the query and waits for a response in the result pane. */
async function run(page: Page): Promise<unknown> {
  // GraphiQL takes an edit (the operation to run) 100 ms after the last keystroke, and then stores the query:
  // a click before that would run the previous operation's name against the new text
  await until(page, "localStorage.getItem('graphiql:query') === document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()");
  await page.getByRole('button', { name: /^Execute query/ }).click();
  await until(page, "document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue().trim().startsWith('{')");
  return JSON.parse(await editorText(page, 'response'));
}

/**
 * axe-core's serious and critical violations, each with the elements it found (selector :: why), but one that
 * GraphiQL's editor raises and that does not stand in a keyboard user's way: scrollable-region-focusable on
 * CodeMirror 5's scroller (`.CodeMirror-scroll`), which holds no focusable element because CodeMirror takes
 * keystrokes in a text area beside it, not inside it. Tab reaches that text area (named by main.ts's
 * nameEditors), and moving the cursor scrolls the editor; making the scroller a tab stop of its own would add a
 * stop that does nothing. Every other violation, there too, fails.
 */
async function axe(page: Page): Promise<{ id: string; impact: string; targets: string[] }[]> {
  // evaluated through the DevTools protocol, not as a page script: the page's CSP stays as served
  await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const violations = await page.evaluate<{ id: string; impact: string; targets: string[] }[]>(`axe.run().then((r) => r.violations.map((v) =>
    ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ') + ' :: ' + n.failureSummary.replace(/\\s+/g, ' ').slice(0, 200)) })))`);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => (v.id === 'scrollable-region-focusable' ? { ...v, targets: v.targets.filter((t) => !/\.CodeMirror-scroll ::/.test(t)) } : v))
    .filter((v) => v.targets.length > 0);
}

describe('the API explorer', () => {
  it('/explorer is a page of the console\'s build with the console\'s policy; the console\'s bundle holds none of it', async () => {
    const page = await fetch(`${http.base}/explorer`, { headers: { 'accept-encoding': 'gzip' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);   // no inline script
    expect(html).not.toMatch(/\bstyle=/);                 // no inline style
    const script = /src="(\/assets\/explorer-[^"]+\.js)"/.exec(html)![1]!;
    expect((await fetch(`${http.base}${script}`)).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const consoleHtml = await (await fetch(`${http.base}/`)).text();
    const consoleScript = /src="(\/assets\/[^"]+\.js)"/.exec(consoleHtml)![1]!;
    expect(consoleScript).not.toBe(script);
    expect(await (await fetch(`${http.base}${consoleScript}`)).text()).not.toMatch(/graphiql/i);
    expect((await fetch(`${http.base}/explorer`, { method: 'POST', body: '{}' })).status).toBe(405);
  });

  it('signed out: a hint to sign in at the console, and the schema\'s documentation all the same', async () => {
    const { page, problems, graphqlBodies } = await openExplorer(null);
    const hint = page.locator('#signed-out');
    await hint.waitFor();
    expect(await hint.getByRole('link', { name: 'sign in at the console' }).getAttribute('href')).toBe('/');
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.getByRole('link', { name: 'Query' }).click();
    await page.locator('.graphiql-doc-explorer').getByText('services', { exact: true }).first().waitFor();
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'explorer-docs.png'), fullPage: true });
    expect(graphqlBodies).toEqual([]);   // the schema is built in: nothing asked of the gateway
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('with the console\'s token: a query typed with completion runs and its answer is shown; no introspection, no CSP violation, no token in localStorage', async () => {
    const { page, problems, graphqlBodies } = await openExplorer(tenant.token);
    await page.locator('#signed-in').waitFor();
    expect(await editorText(page, 'query')).toContain('services(first: 5)');   // the default query, as a script would send it
    // type, and take the completion the schema offers
    await typeQuery(page, '{ servi');
    const hint = page.locator('.CodeMirror-hints li', { hasText: /^services$/ });
    await hint.waitFor();
    await page.keyboard.press('Enter');
    await page.keyboard.type('(first: 5) { totalCount edges { node { name } } } }');
    expect(await editorText(page, 'query')).toBe('{ services(first: 5) { totalCount edges { node { name } } } }');
    await page.getByRole('button', { name: /^Prettify query/ }).click();
    const answer = await run(page);
    expect(answer).toMatchObject({ data: { services: { totalCount: 1, edges: [{ node: { name: expect.stringMatching(/^service-/) } }] } } });
    await page.screenshot({ path: path.join(SHOTS, 'explorer.png'), fullPage: true });
    // GraphiQL's dialogs lock the page's scroll with a stylesheet: added by CSSOM here (style-singleton.ts), not refused
    await page.getByRole('button', { name: 'Open settings dialog' }).click();
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    // asking GraphiQL for the schema again asks the gateway nothing: the schema is the built one
    await page.getByRole('button', { name: 'Re-fetch GraphQL schema' }).click();
    expect(await axe(page)).toEqual([]);
    expect(graphqlBodies).toHaveLength(1);
    expect(JSON.parse(graphqlBodies[0]!).query.replace(/\s+/g, ' ')).toBe('{ services(first: 5) { totalCount edges { node { name } } } }');
    expect(graphqlBodies.join('\n')).not.toContain('__schema');
    // the token: in sessionStorage as the console left it, nowhere in localStorage (GraphiQL keeps its tabs and history there)
    expect(await page.evaluate("sessionStorage.getItem('pga.token')")).toBe(tenant.token);
    const local = await page.evaluate<Record<string, string>>('Object.fromEntries(Object.entries(localStorage))');
    expect(Object.keys(local).length).toBeGreaterThan(0);
    expect(JSON.stringify(local)).not.toContain(tenant.token);
    expect(JSON.stringify(local)).not.toMatch(/bearer|authorization/i);
    expect(page.url()).toBe(`${http.base}/explorer`);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('a token without the scope, and a token the gateway does not know: the gateway\'s own errors in the result pane', async () => {
    const { token: policyOnly } = await g.gateway.tenancy.createToken(tenant.projectId, `policy-only-${Date.now()}`, 'avnadmin', { scopes: 'read:policy' });
    const scoped = await openExplorer(policyOnly);
    await typeQuery(scoped.page, `{ auditEvents(serviceId: "${tenant.serviceId}", first: 1) { totalCount } }`);
    const refused = await run(scoped.page);
    expect(refused).toMatchObject({ errors: [{ message: expect.stringContaining('lacks the scope read:events'), extensions: { code: 'INSUFFICIENT_SCOPE' } }] });
    await scoped.page.screenshot({ path: path.join(SHOTS, 'explorer-scope.png'), fullPage: true });
    // the refusal's 403, if it is one, is logged by Chromium as a failed resource load: nothing else
    expect(scoped.problems.filter((p) => !/status of 40[13]/.test(p))).toEqual([]);
    await scoped.page.context().close();

    const unknown = await openExplorer('pga_not_a_token_0123456789');
    const answer = await run(unknown.page);   // the default query
    expect(answer).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(unknown.problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    await unknown.page.context().close();
  });
});
