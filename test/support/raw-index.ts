/**
 * What the raw-index suites share: a stderr log sent the way a log integration stores PostgreSQL's syslog output
 * (one document per piece, syslog-writer.ts), stored with ids in arrival order, and a service's events as read back.
 */
import { env } from './harness';
import { openSearch } from './opensearch';
import { writeSyslog } from './syslog-writer';

/** A stderr log's records (a line starting with a timestamp starts one). */
export function stderrRecords(log: string): string[] {
  return log.split(/\n(?=\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC \[)/).map((r) => r.replace(/\n$/, '')).filter((r) => r !== '');
}

/** The documents of one stderr record as PostgreSQL's syslog pieces from `host`, numbered per pid by `seq`. */
export function recordDocuments(record: string, host: string, seq: Map<string, number>, time?: string): Record<string, unknown>[] {
  const pid = /^\S+ \S+ UTC \[(\d+)\]/.exec(record)![1]!;
  const n = (seq.get(pid) ?? 0) + 1;
  seq.set(pid, n);
  const timestamp = time ?? new Date(`${record.slice(0, 23).replace(' ', 'T')}Z`).toISOString();
  return writeSyslog(n, record).map((piece) => ({ MESSAGE: piece, timestamp, HOSTNAME: host, SYSLOG_PID: pid, SYSTEMD_UNIT: 'postgresql.service' }));
}

/** A whole log's records, each sent as PostgreSQL's syslog pieces from `host`. */
export function syslogDocuments(log: string, host = 'pg-demo-1'): Record<string, unknown>[] {
  const seq = new Map<string, number>();
  return stderrRecords(log).flatMap((r) => recordDocuments(r, host, seq));
}

/** The mapping of a raw index as an integration makes it. */
export const RAW_MAPPING = { mappings: { properties: {
  timestamp: { type: 'date' }, MESSAGE: { type: 'text' }, HOSTNAME: { type: 'keyword' }, SYSLOG_PID: { type: 'keyword' }, SYSTEMD_UNIT: { type: 'keyword' } } } };

/** Indexes documents as an integration does, ids in arrival order from `first` (what orders pieces of one timestamp); `index` per document. */
export async function storeRaw(docs: Record<string, unknown>[], first: number, index: (doc: Record<string, unknown>) => string): Promise<void> {
  const body = docs.map((d, i) => `${JSON.stringify({ create: { _index: index(d), _id: String(first + i).padStart(10, '0') } })}\n${JSON.stringify(d)}\n`).join('');
  const res = await fetch(`${env('OPENSEARCH_URL')}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  const r = await res.json() as { errors: boolean };
  expect(r.errors).toBe(false);
}

const orderKey = (e: Record<string, unknown>) => [e.timestamp, e.statementId, e.substatementId, e.auditType, e.command, e.objectName, e.statement].join('|');

/** A service's audit events, the fields a stderr line carries, in time and statement order (ids and tenant left out). */
export async function eventsOf(serviceId: string): Promise<Record<string, unknown>[]> {
  await openSearch(env('OPENSEARCH_URL'), 'POST', '/pgaudit-events-*/_refresh');
  const r = await openSearch<{ hits: { hits: { _source: Record<string, unknown> }[] } }>(env('OPENSEARCH_URL'), 'POST', '/pgaudit-events-*/_search',
    { size: 1000, query: { term: { serviceId } } });
  return r.hits.hits.map(({ _source: { id: _i, serviceId: _s, projectId: _p, organizationId: _o, ingestedAt: _a, tiebreak: _t, ...rest } }) => rest)
    .sort((a, b) => orderKey(a).localeCompare(orderKey(b)));
}
