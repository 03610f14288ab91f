/**
 * Redaction at ingest, end to end on the real servers: rules set through GraphQL, a workload on PostgreSQL 15 +
 * pgaudit (log_parameter on) holding a secret string literal, a secret number, a card number in a parameter of a
 * prepared statement, an e-mail address in a comment, and two forged AUDIT lines (dead letters) holding secrets;
 * the server's own log ingested into the real OpenSearch; then the index itself is searched for every secret
 * (full-text queries and a scan of every stored _source, events and dead letters): none is there, while the
 * server's log does hold them. Then a rule change picked up by the same running ingester, a re-ingest that writes
 * nothing twice and rewrites nothing, the history, and refusals that change nothing.
 *
 * The searches are restricted to this file's service (a term filter on serviceId): other suites ingest the same
 * server log into services of their own, without rules, and are free to store what they read.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { DEAD_LETTER_PATTERN, INDEX_PATTERN } from '../src/modules/audit-events/event.index';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import { CheckpointRepository } from '../src/modules/ingest/checkpoint.repository';
import { Ingester, IngestRecorder } from '../src/modules/ingest/ingester';
import { RedactionWatcher } from '../src/modules/redaction/redaction.watcher';
import { silentLogger } from '../src/base/logger';
import { createTenant, ENABLE, env, resetServer, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { waitForAudit, waitForCsvlog } from './support/pgaudit-log';
import { openSearch } from './support/opensearch';

const DB = 'redaction_e2e';
const M = randomBytes(4).toString('hex');
/** A card number no other run or suite uses: 4, 14 random digits, the Luhn check digit. */
function freshCard(): string {
  const body = `4${Array.from({ length: 14 }, () => randomInt(10)).join('')}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}
const CARD = freshCard();
const SECRETS = {
  string: `sekrit-${M}`,
  number: `77${parseInt(M, 16)}`,
  card: CARD,
  cardSpaced: CARD.replace(/(\d{4})(?=\d)/g, '$1 '),
  email: `alice.${M}@example.com`,
  deadLetter: `dl-secret-${M}`,
  deadLetterReason: `dlr-secret-${M}`,
  phase2: `phase2-param-${M}`,
};

const RULES = `version updatedBy rules { dropParameters maskStringLiterals maskNumericLiterals patterns }`;
const SET = `mutation($input: SetRedactionRulesInput!) { setRedactionRules(input: $input) {
  ruleSet { ${RULES} } revision { version actor reason changes { rule from to } } userErrors { code message field } } }`;
const GET = `query($serviceId: ID!) { redactionRules(serviceId: $serviceId) { ${RULES}
  history(first: 10) { totalCount edges { node { version actor reason createdAt changes { rule from to } rules { patterns dropParameters } } } } } }`;
const V1 = { dropParameters: false, maskStringLiterals: true, maskNumericLiterals: true, patterns: ['EMAIL', 'CARD_NUMBER'] };
const V2 = { ...V1, dropParameters: true };

let g: TestGateway;
let a: Tenant;
let b: Tenant;
let logDir: string;
let ingester: Ingester;
const counts = { duplicates: 0 };
const recorder: IngestRecorder = { bytesRead() {}, acknowledged() {}, duplicates(n) { counts.duplicates += n; }, bulkRetries() {}, rejected() {} };

const os = () => env('OPENSEARCH_URL');
const ofService = (serviceId: string) => ({ term: { serviceId } });

/** Every stored document of the service (events and dead letters), whole _source, as the index holds it. */
async function storedDocuments(serviceId: string): Promise<{ _index: string; _source: Record<string, any> }[]> {
  await openSearch(os(), 'POST', `/${INDEX_PATTERN},${DEAD_LETTER_PATTERN}/_refresh`);
  // a scroll: the service ingests the whole server log, which holds every earlier suite's lines too
  const out: { _index: string; _source: Record<string, any> }[] = [];
  let r = await openSearch(os(), 'POST', `/${INDEX_PATTERN},${DEAD_LETTER_PATTERN}/_search?scroll=1m&size=2000`, { query: ofService(serviceId) });
  while (r.hits.hits.length > 0) {
    out.push(...r.hits.hits);
    r = await openSearch(os(), 'POST', '/_search/scroll', { scroll: '1m', scroll_id: r._scroll_id });
  }
  await openSearch(os(), 'DELETE', '/_search/scroll', { scroll_id: r._scroll_id });
  return out;
}

/** Hits of each full-text query for `text` over the service's documents: the statement (events), reason (dead letters), any text field. */
async function fullTextHits(serviceId: string, text: string): Promise<number[]> {
  const queries = [
    { match_phrase: { statement: text } },
    { match: { statement: { query: text, operator: 'and' } } },
    { match_phrase: { reason: text } },
    { query_string: { query: JSON.stringify(text), default_field: '*', lenient: true } },
    // the part of the secret unique to this run, as a token of the standard analyzer
    { wildcard: { statement: { value: `*${text.includes(M) ? M : text.toLowerCase()}*` } } },
  ];
  const hits: number[] = [];
  for (const q of queries) {
    const r = await openSearch(os(), 'POST', `/${INDEX_PATTERN},${DEAD_LETTER_PATTERN}/_search?size=0&track_total_hits=true`,
      { query: { bool: { filter: [ofService(serviceId)], must: [q] } } });
    hits.push(r.hits.total.value);
  }
  return hits;
}

async function setRules(token: string, input: Record<string, unknown>) {
  return g.exec(token, SET, { input });
}

async function ruleState(t: Tenant) {
  const r = await g.exec(a.token, GET, { serviceId: t.serviceId });
  expect(r.errors).toBeUndefined();
  return r.data!.redactionRules;
}

/** Every line of the server's log files holding `text` (the proof that the workload really logged it). */
function logLinesWith(text: string): number {
  let n = 0;
  for (const f of readdirSync(logDir).filter((x) => x.endsWith('.csv') || x.endsWith('.json'))) {
    n += readFileSync(path.join(logDir, f), 'utf8').split(text).length - 1;
  }
  return n;
}

async function workload(phase: 1 | 2): Promise<void> {
  const c = new Client({ connectionString: withDatabase(urls.pgaudit, DB), application_name: 'redaction-e2e' });
  await c.connect();
  try {
    if (phase === 1) {
      await c.query('CREATE TABLE payments (id int, card text, note text)');
      await c.query(`SELECT '${SECRETS.string}' AS s, ${SECRETS.number} AS n`);
      // a prepared statement (extended protocol): pgaudit logs its parameters
      await c.query({ name: 'pay', text: 'INSERT INTO payments VALUES ($1, $2, $3)', values: [1, SECRETS.cardSpaced, `note-visible-${M}`] });
      await c.query(`SELECT count(*) FROM payments /* owner ${SECRETS.email} */`);
      // forged AUDIT lines (RAISE LOG): dead letters holding secrets, in the excerpt and in the reason
      await c.query(`DO $$ BEGIN RAISE LOG 'AUDIT: SESSION,1,1,READ,SELECT,,,select ''${SECRETS.deadLetter}'',<none>'; END $$`);
      await c.query(`DO $$ BEGIN RAISE LOG 'AUDIT: SESSION,${SECRETS.deadLetterReason},1,READ,SELECT,,,x,<none>'; END $$`);
      await c.query(`SELECT 'fence-1-${M}'`);
    } else {
      await c.query({ name: 'pay2', text: 'INSERT INTO payments VALUES ($1, $2, NULL)', values: [2, SECRETS.phase2] });
      await c.query(`SELECT 'fence-2-${M}'`);
    }
  } finally { await c.end(); }
}

/** The fence: the statement masked in the log is still the raw one; wait until the csvlog has it too. */
async function waitForLog(fence: string): Promise<void> {
  await waitForAudit(fence);
  await waitForCsvlog(fence, logDir);
}

beforeAll(async () => {
  logDir = env('TEST_PG15_PGAUDIT_LOG_DIR');
  await resetServer(urls.pgaudit);
  await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${DB}`);
  await sql(urls.pgaudit, `CREATE DATABASE ${DB}`);
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();
  a = await createTenant(g, { serviceUrl: urls.pgaudit });
  b = await createTenant(g, { serviceUrl: urls.pgaudit });
  const r = await g.exec(a.token, ENABLE, { input: { serviceId: a.serviceId, database: DB,
    settings: { log: ['ALL'], logExclude: ['MISC_SET'], logParameter: true, logCatalog: false, logRelation: true } } });
  expect(r.data!.enableAuditLogging.userErrors).toEqual([]);
  const service = (await g.gateway.tenancy.serviceById(a.serviceId))!;
  // one ingester for the whole file: it must pick the rule change up by itself (refresh every 100 ms here)
  ingester = new Ingester(service, logDir, g.gateway.eventStore!, new CheckpointRepository(g.gateway.db.prisma), silentLogger,
    { batchSize: 50, recorder, redaction: new RedactionWatcher(g.gateway.redactionRepository, a.serviceId, 100) });
});
afterAll(async () => { await g?.close(); await resetServer(urls.pgaudit); });

describe('redaction at ingest', () => {
  it('successful-set: rules set through GraphQL start the history at version 1', async () => {
    expect(await ruleState(a)).toMatchObject({ version: 0, updatedBy: null,
      rules: { dropParameters: false, maskStringLiterals: false, maskNumericLiterals: false, patterns: [] }, history: { totalCount: 0 } });
    const r = await setRules(a.token, { serviceId: a.serviceId, rules: V1, reason: 'keep card data out of the store', expectedVersion: 0 });
    expect(r.errors).toBeUndefined();
    expect(r.data!.setRedactionRules).toMatchObject({ userErrors: [],
      ruleSet: { version: 1, rules: { ...V1, patterns: ['CARD_NUMBER', 'EMAIL'] } },
      revision: { version: 1, reason: 'keep card data out of the store', changes: [
        { rule: 'maskStringLiterals', from: 'false', to: 'true' }, { rule: 'maskNumericLiterals', from: 'false', to: 'true' },
        { rule: 'patterns', from: '', to: 'CARD_NUMBER,EMAIL' }] } });
    expect(r.data!.setRedactionRules.revision.actor).toMatch(/^token:/);
  });

  it('the same rules again make no revision', async () => {
    const r = await setRules(a.token, { serviceId: a.serviceId, rules: V1, reason: 'again' });
    expect(r.data!.setRedactionRules).toMatchObject({ userErrors: [], revision: null, ruleSet: { version: 1 } });
  });

  describe('after a workload with secrets is ingested', () => {
    let docs: { _index: string; _source: Record<string, any> }[];

    beforeAll(async () => {
      await workload(1);
      await waitForLog(`fence-1-${M}`);
      await ingester.runOnce();
      docs = await storedDocuments(a.serviceId);
    });

    it('the server log holds every secret (the workload really logged them)', () => {
      for (const [kind, secret] of Object.entries(SECRETS)) {
        if (kind === 'phase2' || kind === 'card') continue;
        expect({ kind, lines: logLinesWith(secret) > 0 }).toEqual({ kind, lines: true });
      }
    });

    it('no secret is in the index: full-text queries find nothing, no stored _source holds one', async () => {
      expect(docs.length).toBeGreaterThan(5);
      const stored = JSON.stringify(docs);
      for (const [kind, secret] of Object.entries(SECRETS)) {
        expect({ kind, stored: stored.includes(secret) }).toEqual({ kind, stored: false });
        expect({ kind, hits: await fullTextHits(a.serviceId, secret) }).toEqual({ kind, hits: [0, 0, 0, 0, 0] });
      }
      // each query does find what is there: a statement's words (all but the reason query), a dead letter's reason
      expect(stored).toContain(`note-visible-${M}`);
      const [phrase, match, reason, any, wildcard] = await fullTextHits(a.serviceId, 'payments');
      expect({ phrase, match, reason, any, wildcard }).toEqual({ phrase: expect.any(Number), match: expect.any(Number), reason: 0,
        any: expect.any(Number), wildcard: expect.any(Number) });
      expect(Math.min(phrase!, match!, any!, wildcard!)).toBeGreaterThan(0);
      expect((await fullTextHits(a.serviceId, 'withheld'))[2]).toBeGreaterThan(0);
    });

    it('events are masked where the secrets were, and say what was taken out', () => {
      const events = docs.filter((d) => d._index.startsWith('pgaudit-events-')).map((d) => d._source);
      const select = events.find((e) => e.statement?.startsWith("SELECT '***' AS s, *** AS n"));
      expect(select).toMatchObject({ redaction: { rulesVersion: 1, parametersDropped: false, literalsMasked: 2, patternsMasked: 0 } });
      const insert = events.find((e) => e.command === 'INSERT' && e.statement === 'INSERT INTO payments VALUES ($1, $2, $3)');
      expect(insert).toMatchObject({ parameters: ['1', '[REDACTED:CARD_NUMBER]', `note-visible-${M}`],
        redaction: { rulesVersion: 1, parametersDropped: false, patternsMasked: 1 } });
      expect(events.find((e) => e.statement?.includes('/* owner'))?.statement).toBe('SELECT count(*) FROM payments /* owner [REDACTED:EMAIL] */');
      expect(events.find((e) => e.statement?.startsWith('DO $$'))?.statement).toBe('DO $$***$$');
    });

    it('the forged lines are dead letters, in shape only, their reasons fixed sentences', () => {
      const letters = docs.filter((d) => d._index.startsWith('pgaudit-deadletter')).map((d) => d._source);
      const ofCode = (code: string) => letters.filter((l) => l.code === code);
      expect(ofCode('not_from_pgaudit').length).toBeGreaterThan(0);
      expect(ofCode('malformed_audit').length).toBeGreaterThan(0);
      for (const l of [...ofCode('not_from_pgaudit'), ...ofCode('malformed_audit')]) {
        expect(l.reason).toMatch(/\(details withheld by redaction rules v1\)$/);
        expect(l.excerpt).toMatch(/^xxxxx: xxxxxxx,/);   // AUDIT: SESSION, in shape
      }
    });

    it('the GraphQL read path shows the events as stored', async () => {
      const r = await g.exec(a.token, `query($serviceId: ID!, $filter: AuditEventFilter) { auditEvents(serviceId: $serviceId, filter: $filter, first: 50) {
        edges { node { statement parameters redaction { rulesVersion parametersDropped literalsMasked patternsMasked } } } } }`,
      { serviceId: a.serviceId, filter: { databases: [DB], commands: ['INSERT'] } });
      expect(r.errors).toBeUndefined();
      expect(r.data!.auditEvents.edges.map((e: any) => e.node)).toContainEqual({ statement: 'INSERT INTO payments VALUES ($1, $2, $3)',
        parameters: ['1', '[REDACTED:CARD_NUMBER]', `note-visible-${M}`], redaction: { rulesVersion: 1, parametersDropped: false, literalsMasked: 0, patternsMasked: 1 } });
    });
  });

  describe('a rule change', () => {
    let before: number;

    beforeAll(async () => {
      before = (await storedDocuments(a.serviceId)).length;
      const r = await setRules(a.token, { serviceId: a.serviceId, rules: V2, reason: 'no parameters at all', expectedVersion: 1 });
      expect(r.data!.setRedactionRules).toMatchObject({ userErrors: [], ruleSet: { version: 2 },
        revision: { version: 2, changes: [{ rule: 'dropParameters', from: 'false', to: 'true' }] } });
      await new Promise((r) => setTimeout(r, 150));   // the ingester's refresh interval here
      await workload(2);
      await waitForLog(`fence-2-${M}`);
      await ingester.runOnce();
    });

    it('is picked up by the running ingester: new events lose their parameters, flagged', async () => {
      const docs = await storedDocuments(a.serviceId);
      const stored = JSON.stringify(docs);
      expect(stored).not.toContain(SECRETS.phase2);
      expect(await fullTextHits(a.serviceId, SECRETS.phase2)).toEqual([0, 0, 0, 0, 0]);
      const insert2 = docs.map((d) => d._source).find((e) => e.statement === 'INSERT INTO payments VALUES ($1, $2, NULL)');
      expect(insert2).toMatchObject({ parameters: null, redaction: { rulesVersion: 2, parametersDropped: true } });
    });

    it('a re-ingest from the start writes nothing twice and rewrites nothing already indexed', async () => {
      const docs = await storedDocuments(a.serviceId);
      const insert1 = docs.find((d) => d._source.statement === 'INSERT INTO payments VALUES ($1, $2, $3)')!;
      await g.gateway.db.prisma.ingestCheckpoint.deleteMany({ where: { serviceId: a.serviceId } });
      const duplicatesBefore = counts.duplicates;
      const again = await ingester.runOnce();
      const after = await storedDocuments(a.serviceId);
      expect(after.length).toBe(docs.length);
      expect(after.length).toBeGreaterThan(before);
      // every record read again is found stored: events, dead letters, and the session events of other suites' failed
      // logins (FATAL lines are always logged) in the shared server's log
      expect(counts.duplicates - duplicatesBefore).toBe(again.events + again.malformed + again.sessionEvents);
      // the phase-1 event keeps the form it was indexed in (rules v1: parameters kept, the card masked)
      expect(after.find((d) => d._source.id === insert1._source.id)!._source).toEqual(insert1._source);
      expect(insert1._source).toMatchObject({ parameters: ['1', '[REDACTED:CARD_NUMBER]', `note-visible-${M}`], redaction: { rulesVersion: 1 } });
    });

    it('the history shows who changed what, when and why, newest first', async () => {
      const s = await ruleState(a);
      expect(s).toMatchObject({ version: 2, rules: { dropParameters: true }, history: { totalCount: 2 } });
      expect(s.history.edges.map((e: any) => [e.node.version, e.node.reason, e.node.changes.map((c: any) => c.rule)])).toEqual([
        [2, 'no parameters at all', ['dropParameters']],
        [1, 'keep card data out of the store', ['maskStringLiterals', 'maskNumericLiterals', 'patterns']]]);
      for (const e of s.history.edges) expect(e.node.actor).toMatch(/^token:.* as avnadmin$/);
    });
  });

  describe('refusals change nothing', () => {
    /** The rules' state and history, before and after `fn`, must be equal. */
    async function unchanged(fn: () => Promise<void>): Promise<void> {
      const before = await ruleState(a);
      await fn();
      expect(await ruleState(a)).toEqual(before);
    }

    it('failing-invalid-rules: a pattern named twice is INVALID_RULES naming the field', () => unchanged(async () => {
      const r = await setRules(a.token, { serviceId: a.serviceId, rules: { ...V1, patterns: ['EMAIL', 'EMAIL'] } });
      expect(r.data!.setRedactionRules).toEqual({ ruleSet: null, revision: null,
        userErrors: [{ code: 'INVALID_RULES', message: 'pattern EMAIL is named twice', field: ['input', 'rules', 'patterns'] }] });
    }));

    it('failing-unknown-pattern: a name that is not a pattern is refused before anything runs', () => unchanged(async () => {
      const r = await setRules(a.token, { serviceId: a.serviceId, rules: { ...V1, patterns: ['SSN'] } });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.data).toBeUndefined();
    }));

    it('failing-missing-rule: every rule is required (the rules are replaced, not patched)', () => unchanged(async () => {
      const r = await setRules(a.token, { serviceId: a.serviceId, rules: { patterns: [] } });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }));

    it('failing-version-conflict: a stale expectedVersion is VERSION_CONFLICT', () => unchanged(async () => {
      const r = await setRules(a.token, { serviceId: a.serviceId, rules: { ...V2, dropParameters: false }, expectedVersion: 1 });
      expect(r.data!.setRedactionRules.userErrors).toEqual([{ code: 'VERSION_CONFLICT', message: expect.stringContaining('version 2'), field: ['input', 'expectedVersion'] }]);
    }));

    it('failing-reason-too-long: over 2000 characters', () => unchanged(async () => {
      const r = await setRules(a.token, { serviceId: a.serviceId, rules: NO_RULES, reason: 'x'.repeat(2001) });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }));

    it('failing-scope: a token without write:policy cannot set rules; without read:policy cannot read them', () => unchanged(async () => {
      const reader = await g.gateway.tenancy.createToken(a.projectId, `reader-${M}`, 'avnadmin', { scopes: 'read:policy,read:events' });
      const r = await setRules(reader.token, { serviceId: a.serviceId, rules: NO_RULES });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_SCOPE', missingScopes: ['write:policy'] });
      const eventsOnly = await g.gateway.tenancy.createToken(a.projectId, `events-${M}`, 'avnadmin', { scopes: 'read:events' });
      const q = await g.exec(eventsOnly.token, GET, { serviceId: a.serviceId });
      expect(q.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_SCOPE', missingScopes: ['read:policy'] });
      expect(q.data).toBeUndefined();
    }));

    it('failing-other-tenant: another project\'s token neither sets nor reads the rules (NOT_FOUND, as for a service that does not exist)', () => unchanged(async () => {
      const r = await setRules(b.token, { serviceId: a.serviceId, rules: NO_RULES, reason: 'not mine' });
      expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(r.data).toBeNull();
      const q = await g.exec(b.token, GET, { serviceId: a.serviceId });
      expect(q.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      // b's own service is untouched by a's rules
      expect(await g.exec(b.token, GET, { serviceId: b.serviceId })).toMatchObject({ data: { redactionRules: { version: 0, history: { totalCount: 0 } } } });
    }));
  });
});

const NO_RULES = { dropParameters: false, maskStringLiterals: false, maskNumericLiterals: false, patterns: [] };
