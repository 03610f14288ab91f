/** The Kafka message contract (kafka.record.ts): signatures per service, one record per message, every refusal a dead letter. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { keyring } from '../../base/crypto/master-keys';
import { CsvlogSplitter } from './formats/csvlog.splitter';
import { JsonlogSplitter } from './formats/jsonlog.splitter';
import { ingestKey, MessageRouter, signLogRecord } from './kafka.record';
import type { LogItem } from './log-record';

const ring1 = keyring(new Map([[1, randomBytes(32)]]));
const ring21 = keyring(new Map([[2, randomBytes(32)], [1, ring1.key(1)!]]));
const A = '6f1d1a4e-0000-4000-8000-00000000000a';
const B = '6f1d1a4e-0000-4000-8000-00000000000b';
const csv = fs.readFileSync(path.join(__dirname, 'fixtures/pgaudit-pg15/postgresql.csv'), 'utf8');
const auditRow = Buffer.from(csv.split('\n').find((l) => l.includes('AUDIT: SESSION'))!);
const jsonRow = Buffer.from(fs.readFileSync(path.join(__dirname, 'fixtures/pgaudit-pg15/postgresql.json'), 'utf8').split('\n').find((l) => l.includes('AUDIT: SESSION'))!);
const known = (id: string) => id === A || id === B;
const router = new MessageRouter(ring1);

function signed(service: string, value: Buffer, format = 'csvlog', signAs = service, ring = ring1) {
  return { key: Buffer.from(service), value, headers: { 'pga-format': format, 'pga-signature': signLogRecord(ingestKey(ring, ring.current, signAs)!, ring.current, value) } };
}

describe('ingest keys and signatures', () => {
  it('a key per service and master key version; a signature verifies only under its service and value', () => {
    expect(ingestKey(ring1, 1, A)!.equals(ingestKey(ring1, 1, B)!)).toBe(false);
    expect(ingestKey(ring1, 1, A)!.equals(ingestKey(ring1, 1, A)!)).toBe(true);
    expect(ingestKey(ring1, 2, A)).toBeUndefined();
    const sig = signLogRecord(ingestKey(ring1, 1, A)!, 1, auditRow);
    expect(sig).toMatch(/^1\.[A-Za-z0-9_-]{43}$/);
    expect(new MessageRouter(ring1).verify(A, auditRow, sig)).toBe(true);
    expect(new MessageRouter(ring1).verify(B, auditRow, sig)).toBe(false);
    expect(new MessageRouter(ring1).verify(A, Buffer.concat([auditRow, Buffer.from(' ')]), sig)).toBe(false);
    for (const bad of [undefined, '', '1.', sig.slice(0, -1), `9.${sig.slice(2)}`, `${sig}x`]) expect(new MessageRouter(ring1).verify(A, auditRow, bad)).toBe(false);
  });

  it('after a master key rotation, records signed under the older version still verify while it is configured', () => {
    const old = signLogRecord(ingestKey(ring1, 1, A)!, 1, auditRow);
    expect(new MessageRouter(ring21).verify(A, auditRow, old)).toBe(true);
    expect(new MessageRouter(keyring(new Map([[2, ring21.key(2)!]]))).verify(A, auditRow, old)).toBe(false);
  });
});

describe('MessageRouter.route', () => {
  it('a signed csvlog or jsonlog record of a known service is that service\'s one record, at the message\'s offset', () => {
    for (const [value, format] of [[auditRow, 'csvlog'], [jsonRow, 'jsonlog']] as const) {
      const r = router.route(signed(A, value, format), 42, known);
      expect(r.kind).toBe('record');
      if (r.kind !== 'record') return;
      expect(r.serviceId).toBe(A);
      expect(r.item).toMatchObject({ ok: true, endOffset: 42 });
      expect(r.item.ok && r.item.record.message).toMatch(/^AUDIT: SESSION/);
    }
    // a trailing newline is optional
    expect(router.route(signed(A, Buffer.concat([auditRow, Buffer.from('\n')])), 1, known)).toMatchObject({ kind: 'record', item: { ok: true } });
  });

  it('another service\'s signature, an unknown service, no key, a bad key, no signature: unauthenticated, the claim kept, never the value', () => {
    const cases = [
      signed(B, auditRow, 'csvlog', A),
      signed('6f1d1a4e-0000-4000-8000-00000000000c', auditRow),
      { key: null, value: auditRow, headers: {} },
      { key: Buffer.from('a b'), value: auditRow, headers: {} },
      { key: Buffer.from(A), value: auditRow, headers: { 'pga-format': 'csvlog' } },
    ];
    for (const m of cases) {
      const r = router.route(m, 7, known);
      expect(r.kind).toBe('unauthenticated');
      if (r.kind === 'unauthenticated') expect(r.excerpt).not.toContain('AUDIT');
    }
  });

  it('a signed message that is not one record of its format is a malformed item of that service', () => {
    const two = Buffer.concat([auditRow, Buffer.from('\n'), auditRow, Buffer.from('\n')]);
    for (const [m, reason] of [
      [signed(A, auditRow, 'stderr'), /pga-format must be csvlog or jsonlog/],
      [signed(A, two), /holds one csvlog record; this one holds 2/],
      [signed(A, Buffer.alloc(0)), /holds none/],
      [signed(A, jsonRow, 'csvlog'), /./],
    ] as const) {
      const r = router.route(m, 9, known);
      expect(r).toMatchObject({ kind: 'record', serviceId: A, item: { ok: false, endOffset: 9 } });
      if (r.kind === 'record' && !r.item.ok) expect(r.item.reason).toMatch(reason);
    }
    const big = new MessageRouter(ring1, 64).route(signed(A, auditRow), 3, known);
    expect(big).toMatchObject({ kind: 'record', item: { ok: false, code: 'record_too_large', endOffset: 3 } });
  });
});

describe('MessageRouter: a record per message, parsed as a splitter parses it', () => {
  /** An item without its offsets: what a message and a whole file make of the same record must agree on the rest. */
  const content = (item: LogItem) => (item.ok ? { ...item, endOffset: 0, record: { ...item.record, endOffset: 0 } } : { ...item, endOffset: 0 });

  it('every record of the pgaudit fixtures, one message each through one router, as the file splitter reads it', () => {
    const json = fs.readFileSync(path.join(__dirname, 'fixtures/pgaudit-pg15/postgresql.json'), 'utf8');
    for (const [text, format, splitter] of [[csv, 'csvlog', new CsvlogSplitter()], [json, 'jsonlog', new JsonlogSplitter()]] as const) {
      const whole = [...splitter.push(text), ...splitter.end()];
      expect(whole.length).toBeGreaterThan(10);
      // each record's own bytes, as the shipper sends it (csvlog rows may span lines: cut at the items' end offsets)
      const bytes = Buffer.from(text);
      let from = 0;
      const router = new MessageRouter(ring1);
      for (const item of whole) {
        const value = bytes.subarray(from, item.endOffset);
        from = item.endOffset;
        const r = router.route(signed(A, value, format), 5, known);
        expect(r.kind).toBe('record');
        if (r.kind === 'record') expect(content(r.item)).toEqual(content(item));
      }
    }
    expect(csv).toMatch(/"[^"\n]*\n/);   // the fixture has rows over several lines: the splitter path is covered too
  });

  it('a statement over several lines, a CRLF line end, and a broken record before a good one (nothing carried over)', () => {
    const multi = Buffer.from(auditRow.toString().replace('create extension if', 'create extension\n  if'));
    expect(multi.includes('\n')).toBe(true);
    const router = new MessageRouter(ring1);
    const one = router.route(signed(A, multi), 1, known);
    expect(one).toMatchObject({ kind: 'record', item: { ok: true } });
    if (one.kind === 'record' && one.item.ok) expect(one.item.record.message).toContain('create extension\n  if not exists');
    expect(router.route(signed(A, Buffer.concat([auditRow, Buffer.from('\r\n')])), 2, known)).toMatchObject({ kind: 'record', item: { ok: true } });
    const broken = Buffer.from(`${auditRow.toString().slice(0, 60)}"unterminated`);
    expect(router.route(signed(A, broken), 3, known)).toMatchObject({ kind: 'record', item: { ok: false } });
    expect(router.route(signed(A, auditRow), 4, known)).toMatchObject({ kind: 'record', item: { ok: true, endOffset: 4 } });
  });
});

