/**
 * Ingest cannot be turned into a weapon (issue 10, part 7), on the real OpenSearch and gateway database:
 *
 *   failing-forged-timestamps   lines dated 1970, 2099, before the retention or days ahead are dead letters
 *                               `timestamp_out_of_window` and create no daily index (indices listed before/after)
 *   dead-letter retention       the sweep of follow() deletes dead-letter days past DEAD_LETTER_RETENTION_DAYS
 *                               (and the undated index of earlier versions once it is that old), nothing newer
 *   failing-forged-overwrite    stream lines copying a real event's identity (session, line number, time,
 *                               user, database) never change the stored event; a second line claiming an id
 *                               the stream already used does not replace the first
 *   failing-oversize            a record over the maximum is a `record_too_large` dead letter with a bounded,
 *                               flagged excerpt; INGEST_MAX_RECORD_BYTES sets the maximum of the CLI
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { silentLogger } from '../src/base/logger';
import type { AuditEventDocument } from '../src/modules/audit-events/event.document';
import { deadLetterIndexFor, DeadLetterDocument, indexFor, retentionCutoffMs } from '../src/modules/audit-events/event.index';
import { eventId } from '../src/modules/ingest/audit-event';
import { CheckpointRepository } from '../src/modules/ingest/checkpoint.repository';
import { IngestOptions, Ingester } from '../src/modules/ingest/ingester';
import { CLI, ROOT } from './support/cli';
import { generateCsvlog } from './support/csvlog-generator';
import { createTenant, env, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { openSearch } from './support/opensearch';

const DAY = 86_400_000;
/** A stderr prefix with a session identity: ids from (source, %c, %l). */
const PREFIX = '%m [%p] %c %l %u@%d ';

let g: TestGateway;
let tmp: string;
const OS = () => env('OPENSEARCH_URL');

beforeAll(async () => {
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();   // as `serve` and `ingest` do at start-up
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-hardening-'));
});
afterAll(async () => {
  await g.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** PostgreSQL's %m: `2026-11-30 01:02:03.456 UTC`. */
const pgTime = (t: number | string) => new Date(t).toISOString().replace('T', ' ').replace('Z', ' UTC');
/** One stderr audit line of prefix PREFIX. */
const auditLine = (t: number | string, session: string, line: number, statement: string, who = 'alice@shop') =>
  `${pgTime(t)} [4242] ${session} ${line} ${who} LOG:  AUDIT: SESSION,${line},1,READ,SELECT,,,${statement},<none>\n`;

async function ingesterFor(t: Tenant, dir = tmp, opts: IngestOptions = {}): Promise<Ingester> {
  const service = await g.gateway.tenancy.serviceById(t.serviceId);
  return new Ingester(service!, dir, g.gateway.eventStore!, new CheckpointRepository(g.gateway.db.prisma), silentLogger, opts);
}
const stream = (text: string) => Readable.from([Buffer.from(text)]);

async function indices(pattern: string): Promise<string[]> {
  return (await openSearch<{ index: string }[]>(OS(), 'GET', `/_cat/indices/${pattern}?format=json&h=index`)).map((r) => r.index).sort();
}
async function eventsOf(serviceId: string): Promise<(AuditEventDocument & { tiebreak: number })[]> {
  await openSearch(OS(), 'POST', '/pgaudit-events-*/_refresh?allow_no_indices=true');
  const res = await openSearch(OS(), 'POST', '/pgaudit-events-*/_search?allow_no_indices=true', { size: 1000, query: { term: { serviceId } } });
  return res.hits.hits.map((h: any) => h._source);
}
async function deadLettersOf(serviceId: string): Promise<(DeadLetterDocument & { _index: string })[]> {
  await openSearch(OS(), 'POST', '/pgaudit-deadletter*/_refresh?allow_no_indices=true');
  const res = await openSearch(OS(), 'POST', '/pgaudit-deadletter*/_search?allow_no_indices=true',
    { size: 1000, query: { term: { serviceId } }, sort: [{ endOffset: 'asc' }] });
  return res.hits.hits.map((h: any) => ({ ...h._source, _index: h._index }));
}
const dayOf = (index: string) => {
  const m = /(\d{4})\.(\d{2})\.(\d{2})$/.exec(index)!;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
};

it('failing-forged-timestamps: lines dated 1970, 2099, before the retention or days ahead are dead letters and create no index', async () => {
  const t = await createTenant(g, { serviceUrl: urls.pgaudit });
  const now = Date.now();
  const outside = [Date.UTC(1970, 0, 1), Date.UTC(2099, 11, 31, 12), now - 40 * DAY, now + 3 * DAY];
  const before = await indices('pgaudit-events-*');
  for (const ms of outside) expect(before).not.toContain(indexFor(new Date(ms).toISOString()));

  const input = [...outside, now - 60_000].map((ms, i) => auditLine(ms, '6b05e4b1.22aa', i + 1, `select ${i}`)).join('');
  const r = await (await ingesterFor(t)).ingestStream(stream(input), { source: 'forger', format: 'stderr', logLinePrefix: PREFIX });
  expect(r).toEqual({ events: 1, malformed: 4, sessionEvents: 0 });

  // a csvlog file of 1999 (as a server with a wrong clock would write it): dead letters too
  const dir = fs.mkdtempSync(path.join(tmp, 'old-'));
  const old = generateCsvlog({ seed: 77, auditLines: 12, start: new Date(Date.UTC(1999, 2, 1)), forgedEvery: 0 });
  fs.writeFileSync(path.join(dir, 'postgresql-1999-03-01_000000.csv'), old.bytes);
  // its connection / disconnection lines are session events, held to the same window
  const sessionLines = old.rows.filter((r) => /,"(connection authorized|disconnection): /.test(r.text)).length;
  expect(sessionLines).toBeGreaterThan(0);
  expect(await (await ingesterFor(t, dir)).runOnce()).toMatchObject({ files: 1, events: 0, malformed: 12 + sessionLines, sessionEvents: 0 });
  expect(await indices('pgaudit-sessions-*')).not.toContain('pgaudit-sessions-1999.03.01');

  const after = await indices('pgaudit-events-*');
  for (const ms of [...outside, Date.UTC(1999, 2, 1)]) expect(after).not.toContain(indexFor(new Date(ms).toISOString()));
  // whatever index appeared meanwhile (other suites run beside this one) is inside the window
  for (const name of after.filter((n) => !before.includes(n))) {
    expect(dayOf(name)).toBeGreaterThanOrEqual(retentionCutoffMs(30, now));
    expect(dayOf(name)).toBeLessThanOrEqual(Date.now() + DAY);
  }

  const events = await eventsOf(t.serviceId);
  expect(events.map((e) => e.statement)).toEqual(['select 4']);
  const letters = await deadLettersOf(t.serviceId);
  expect(letters).toHaveLength(16 + sessionLines);
  for (const l of letters) {
    expect(l.code).toBe('timestamp_out_of_window');
    expect(l._index).toBe(deadLetterIndexFor(l.seenAt));   // the ingester's day, never the line's
    expect(Math.abs(Date.parse(l.seenAt) - now)).toBeLessThan(DAY);
    expect(l.excerpt).toMatch(/^(AUDIT: |connection authorized: |disconnection: )/);
  }
  const fromStream = letters.filter((l) => l.source === 'stream:forger');
  expect(fromStream.map((l) => l.reason)).toEqual([
    expect.stringMatching(/^timestamp 1970-01-01T00:00:00.000Z is older than the retention/),
    expect.stringMatching(/^timestamp 2099-12-31T12:00:00.000Z is more than 86400 s ahead/),
    expect.stringMatching(/older than the retention/),
    expect.stringMatching(/ahead of the ingester's clock/),
  ]);
});

it('successful-dead-letter-retention: the sweep of follow() deletes dead-letter days past their retention, and nothing newer', async () => {
  const t = await createTenant(g, { serviceUrl: urls.pgaudit });
  const store = g.gateway.eventStore!;
  const now = Date.now();
  const letter = (id: string, seenAtMs: number): DeadLetterDocument => ({ id, serviceId: t.serviceId, source: 'stream:x', endOffset: 1,
    code: 'malformed', reason: 'test', excerpt: 'x', excerptTruncated: false, seenAt: new Date(seenAtMs).toISOString() });
  const oldLetter = letter(`old-${t.serviceId}`, now - 9 * DAY);
  const newLetter = letter(`new-${t.serviceId}`, now - 2 * DAY);
  expect((await store.bulkIndex([], [oldLetter, newLetter])).rejected).toEqual([]);
  const oldIndex = deadLetterIndexFor(oldLetter.seenAt);
  const newIndex = deadLetterIndexFor(newLetter.seenAt);
  expect(await indices('pgaudit-deadletter*')).toEqual(expect.arrayContaining([oldIndex, newIndex]));
  const eventsBefore = await indices('pgaudit-events-*');

  // follow(): event retention 3650 days, dead letters 5 days
  const ingester = await ingesterFor(t, fs.mkdtempSync(path.join(tmp, 'empty-')), { deadLetterRetentionDays: 5 });
  const abort = new AbortController();
  const following = ingester.follow(abort.signal, 20, 3650);
  try {
    for (let i = 0; i < 200 && (await indices('pgaudit-deadletter*')).includes(oldIndex); i++) await new Promise((r) => setTimeout(r, 50));
  } finally { abort.abort(); await following; }
  const left = await indices('pgaudit-deadletter*');
  expect(left).not.toContain(oldIndex);
  expect(left).toContain(newIndex);
  expect((await deadLettersOf(t.serviceId)).map((l) => l.id)).toEqual([newLetter.id]);
  expect(await indices('pgaudit-events-*')).toEqual(expect.arrayContaining(eventsBefore));   // events: another retention

  // the undated index of earlier versions: kept while its newest letter is recent, deleted once it is old
  await openSearch(OS(), 'PUT', `/pgaudit-deadletter/_doc/legacy-${t.serviceId}?refresh=true`,
    { id: 'legacy', serviceId: t.serviceId, source: 'f.csv', endOffset: 1, reason: 'old', excerpt: 'x', seenAt: new Date(now - 3 * DAY).toISOString() });
  expect(await store.expire(3650, new Date(now), 5)).not.toEqual(expect.arrayContaining(['pgaudit-deadletter']));
  expect(await indices('pgaudit-deadletter*')).toEqual(expect.arrayContaining(['pgaudit-deadletter', newIndex]));
  expect(await store.expire(3650, new Date(now + 4 * DAY), 5)).toEqual(expect.arrayContaining(['pgaudit-deadletter', newIndex]));
  expect(await indices('pgaudit-deadletter*')).not.toContain('pgaudit-deadletter');
});

it('failing-forged-overwrite: stream lines copying a real event\'s identity never change it, nor can a later line of the same id', async () => {
  const t = await createTenant(g, { serviceUrl: urls.pgaudit });
  const dir = fs.mkdtempSync(path.join(tmp, 'real-'));
  const gen = generateCsvlog({ seed: 4711, auditLines: 30, start: new Date(Date.now() - 3_600_000), forgedEvery: 0 });
  fs.writeFileSync(path.join(dir, 'postgresql-2026-11-30_000000.csv'), gen.bytes);
  expect(await (await ingesterFor(t, dir)).runOnce()).toMatchObject({ events: 30, malformed: 0 });
  const real = gen.audit.find((r) => r.event!.user && r.event!.database)!.event!;
  const realId = eventId(t.serviceId, real.sessionId, real.sessionLineNum);
  const stored = async () => (await openSearch(OS(), 'GET', `/${indexFor(real.timestamp)}/_doc/${realId}`))._source;
  const original = await stored();
  expect(original.statement).toBe(real.statement);

  // the same session id, line number, time, user and database, through both stream formats and two names
  const forged = auditLine(real.timestamp, real.sessionId, real.sessionLineNum, 'drop table accounts', `${real.user}@${real.database}`);
  const duplicates: number[] = [];
  const recorder = { bytesRead() {}, acknowledged() {}, bulkRetries() {}, rejected() {}, duplicates: (n: number) => { duplicates.push(n); } };
  const ingester = await ingesterFor(t, dir, { recorder });
  expect(await ingester.ingestStream(stream(forged), { source: 'attacker', format: 'stderr', logLinePrefix: PREFIX })).toEqual({ events: 1, malformed: 0, sessionEvents: 0 });
  expect(await ingester.ingestStream(stream(`${JSON.stringify({ MESSAGE: forged })}\n`), { source: 'postgresql.csv', format: 'managed', logLinePrefix: PREFIX }))
    .toEqual({ events: 1, malformed: 0, sessionEvents: 0 });
  expect(await stored()).toEqual(original);
  expect(duplicates.reduce((a, b) => a + b, 0)).toBe(0);    // not even a conflict: the forged lines have ids of their own streams
  let events = await eventsOf(t.serviceId);
  expect(events).toHaveLength(32);
  expect(events.filter((e) => e.sessionId === real.sessionId && e.sessionLineNum === real.sessionLineNum).map((e) => e.statement).sort())
    .toEqual(['drop table accounts', 'drop table accounts', real.statement].sort());

  // within one stream, a later line claiming an id already used does not replace the first
  const again = auditLine(real.timestamp, real.sessionId, real.sessionLineNum, 'select harmless', `${real.user}@${real.database}`);
  expect(await ingester.ingestStream(stream(again), { source: 'attacker', format: 'stderr', logLinePrefix: PREFIX })).toEqual({ events: 1, malformed: 0, sessionEvents: 0 });
  expect(duplicates.reduce((a, b) => a + b, 0)).toBe(1);
  events = await eventsOf(t.serviceId);
  expect(events).toHaveLength(32);
  expect(events.map((e) => e.statement)).not.toContain('select harmless');

  // and the store never replaces a document: a write of the real id with other content changes nothing
  const { tiebreak: _, ...doc } = original;
  const r = await g.gateway.eventStore!.bulkIndex([{ ...doc, statement: 'tampered' }]);
  expect(r).toMatchObject({ duplicates: 1, rejected: [] });
  expect(await stored()).toEqual(original);
  // a replay of the whole file (a crash before the checkpoint) is idempotent: nothing new, nothing changed
  await g.gateway.db.prisma.ingestCheckpoint.deleteMany({ where: { serviceId: t.serviceId } });
  expect(await (await ingesterFor(t, dir)).runOnce()).toMatchObject({ events: 30 });
  expect(await eventsOf(t.serviceId)).toHaveLength(32);
  expect(await stored()).toEqual(original);
});

it('failing-oversize: a record over the maximum is a record_too_large dead letter with a bounded, flagged excerpt', async () => {
  const t = await createTenant(g, { serviceUrl: urls.pgaudit });
  const now = Date.now() - 60_000;
  const input = auditLine(now, '6b05e4b1.1', 1, `select '${'é'.repeat(100_000)}'`) + auditLine(now, '6b05e4b1.1', 2, 'select 2');
  const r = await (await ingesterFor(t, tmp, { maxRecordBytes: 65_536 })).ingestStream(stream(input), { source: 'big', format: 'stderr', logLinePrefix: PREFIX });
  expect(r).toEqual({ events: 1, malformed: 1, sessionEvents: 0 });
  expect((await eventsOf(t.serviceId)).map((e) => e.statement)).toEqual(['select 2']);
  const [letter, ...rest] = await deadLettersOf(t.serviceId);
  expect(rest).toEqual([]);
  expect(letter).toMatchObject({ code: 'record_too_large', excerptTruncated: true, reason: expect.stringMatching(/longer than 65536 bytes/) });
  expect(Buffer.byteLength(letter!.excerpt)).toBeLessThanOrEqual(512);
  expect(letter!.excerpt).not.toContain('\ufffd');   // cut on a character boundary

  // the CLI takes the maximum from INGEST_MAX_RECORD_BYTES; a value out of range stops it, naming the variable
  const other = await createTenant(g, { serviceUrl: urls.pgaudit });
  const managed = [`select '${'x'.repeat(10_000)}'`, 'select 3'].map((s, i) => JSON.stringify({ MESSAGE: auditLine(now, '6b05e4b1.2', i + 1, s).trimEnd() })).join('\n') + '\n';
  const run = (max: string) => spawnSync(process.execPath, [CLI, 'ingest', '--service', other.serviceId, '--stdin', '--source', 'cli', '--format', 'managed',
    '--log-line-prefix', PREFIX, '--json'], { cwd: ROOT, input: managed, encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, DATABASE_URL: urls.gatewayDb, INGEST_MAX_RECORD_BYTES: max } });
  const bad = run('10');
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toMatch(/INGEST_MAX_RECORD_BYTES must be an integer from 4096/);
  expect(await eventsOf(other.serviceId)).toEqual([]);   // nothing written
  const ok = run('4096');
  expect(ok.status).toBe(0);
  expect(JSON.parse(ok.stdout)).toEqual({ events: 1, malformed: 1, sessionEvents: 0 });
  expect((await deadLettersOf(other.serviceId)).map((l) => l.code)).toEqual(['record_too_large']);
});
