/**
 * The Kafka source's CPU per message in process, without Kafka or OpenSearch: what `MessageRouter.route` (the
 * signature check and the record's parse, src/modules/ingest/kafka.record.ts) costs a message, beside what the file
 * path's splitter costs a record of the same csvlog (the baseline), and beside the way the router worked before
 * (the service's ingest key derived and a splitter built for every message), emulated here with the same functions.
 * All three on the same records, in alternating rounds; the median of the rounds.
 *
 *     npm run build:tools && node dist/bench/kafka-route.js [--records 100000] [--rounds 5]
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { parseArgs } from 'node:util';
import { keyring } from '../src/base/crypto/master-keys';
import { CsvlogSplitter } from '../src/modules/ingest/formats/csvlog.splitter';
import { FORMAT_HEADER, ingestKey, type KafkaLogMessage, MessageRouter, SIGNATURE_HEADER, signLogRecord } from '../src/modules/ingest/kafka.record';
import { csvlogRows } from './csvlog-generator';
import { machine } from './environment';

const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '5' } } });
const records = Number(values.records);
const rounds = Number(values.rounds);
const SERVICES = 16;

const ring = keyring(new Map([[1, randomBytes(32)]]));
const services = Array.from({ length: SERVICES }, () => randomUUID());
const rows: Buffer[] = [];
for (const row of csvlogRows(records, { stepMs: 250 })) {
  if (rows.length >= records) break;
  rows.push(Buffer.from(row));
}
const keys = services.map((s) => ingestKey(ring, 1, s)!);
const messages: KafkaLogMessage[] = rows.map((value, i) => ({
  key: Buffer.from(services[i % SERVICES]!), value,
  headers: { [FORMAT_HEADER]: 'csvlog', [SIGNATURE_HEADER]: signLogRecord(keys[i % SERVICES]!, 1, value) },
}));
const file = Buffer.concat(rows);
const known = () => true;

/** The file path: one splitter over the whole csvlog, in 64 KiB reads. */
function fileSplitter(): number {
  const splitter = new CsvlogSplitter();
  let n = 0;
  for (let at = 0; at < file.length; at += 65536) n += splitter.push(file.subarray(at, at + 65536)).length;
  return n + splitter.end().length;
}

/** The router as it is: one per source. */
function router(): number {
  const r = new MessageRouter(ring);
  let n = 0;
  for (let i = 0; i < messages.length; i++) if (r.route(messages[i]!, i, known).kind === 'record') n += 1;
  return n;
}

/** Before: per message, the key derived (HKDF), an HMAC over a raw key, and a new splitter for the one record. */
function perMessageSetUp(): number {
  let n = 0;
  for (const m of messages) {
    const [version, sig] = String(m.headers![SIGNATURE_HEADER]).split('.');
    const key = ingestKey(ring, Number(version), m.key!.toString('utf8'))!;
    const expected = createHmac('sha256', key).update(m.value!).digest();
    if (!timingSafeEqual(expected, Buffer.from(sig!, 'base64url'))) throw new Error('signature');
    const splitter = new CsvlogSplitter();
    const items = [...splitter.push(m.value!), ...splitter.end()];
    if (items.length === 1) n += 1;
  }
  return n;
}

const cases = { 'file splitter, per record (baseline)': fileSplitter, 'MessageRouter.route, per message': router, 'before: key derived and splitter built per message': perMessageSetUp };
const times = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
for (const fn of Object.values(cases)) fn();   // warm-up
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(cases)) {
    const t0 = process.hrtime.bigint();
    const n = fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (n !== rows.length) throw new Error(`${name}: ${n} records of ${rows.length}`);
    times.get(name)!.push(ns / n / 1000);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(times.get('file splitter, per record (baseline)')!);
console.log(`kafka-route: ${rows.length} csvlog records (${(file.length / rows.length).toFixed(0)} bytes each), ${SERVICES} services, ${rounds} rounds, ${JSON.stringify(machine())}`);
console.log('| path | µs per record (median) | vs baseline |');
console.log('|---|---|---|');
for (const [name, xs] of times) console.log(`| ${name} | ${median(xs).toFixed(2)} | ${(median(xs) / base).toFixed(2)}x |`);
