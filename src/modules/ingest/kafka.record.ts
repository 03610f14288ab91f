/**
 * A message of the platform's log stream (a Kafka topic shared by many services) to what the ingester does with
 * it. Pure: no I/O, never throws on input.
 *
 * The contract a platform's shipper follows (README, Ingest from Kafka):
 * - one message is one complete log record: a csvlog row or a jsonlog object, as PostgreSQL wrote it (a trailing
 *   newline is optional);
 * - the key is the service id (UTF-8); the platform keys by service, so one service's records stay in order on one
 *   partition;
 * - header `pga-format`: `csvlog` or `jsonlog`;
 * - header `pga-signature`: `<key version>.<base64url of HMAC-SHA256(value)>` under the service's ingest key
 *   (`ingestKey`: derived from the gateway's master key of that version and the service id; `admin ingest-key`
 *   prints it for the shipper of that service's servers). Only a holder of a service's key can put records into
 *   that service's events: a message naming another service, or signed with another service's key, is refused
 *   before its value is read, and becomes a dead letter of no tenant (`unauthenticated_source`).
 *
 * Per message, a MessageRouter does no set-up: each service's ingest key is derived once (as an HMAC key object)
 * and kept, and a record is parsed by one row parser kept across messages. Deriving the key (HKDF) and building a
 * splitter for every message took two thirds of the routing's CPU (bench/README.md, Kafka ingest).
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { derivedKey, type MasterKeyring } from '../../base/crypto/master-keys';
import { CsvlogRowParser, CsvlogSplitter } from './formats/csvlog.splitter';
import { jsonlogLineToItem, JsonlogSplitter } from './formats/jsonlog.splitter';
import { newTimestampCache } from './pg-timestamp';
import { DEFAULT_MAX_RECORD_BYTES, LogItem, malformed } from './log-record';

export const FORMAT_HEADER = 'pga-format';
export const SIGNATURE_HEADER = 'pga-signature';
/** HKDF's purpose for ingest keys: a new scheme gets a new purpose, never a changed derivation. */
const INGEST_KEY_PURPOSE = 'pga-ingest-key-v1';
export const KAFKA_LOG_FORMATS = ['csvlog', 'jsonlog'] as const;
export type KafkaLogFormat = typeof KAFKA_LOG_FORMATS[number];
/** A service id in a key: what tenancy issues (UUIDs), with room; anything longer is not one. */
const MAX_KEY_CHARS = 128;
/** What of an unauthenticated message a dead letter keeps: its claim, never its value (it is nobody's data). */
const CLAIM_CHARS = 80;

/** The ingest key of `serviceId` under master key `version`; undefined when that version is not configured. */
export function ingestKey(ring: MasterKeyring, version: number, serviceId: string): Buffer | undefined {
  return derivedKey(ring, version, INGEST_KEY_PURPOSE, serviceId);
}

/** The `pga-signature` header of `value`, signed with the ingest key of version `version`: what a shipper sends. */
export function signLogRecord(key: Buffer, version: number, value: Buffer): string {
  return `${version}.${createHmac('sha256', key).update(value).digest('base64url')}`;
}

/** A message as the consumer sees it (kafkajs's shape, the parts read here). */
export interface KafkaLogMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/** What to do with one message: a service's log item, or a dead letter of no tenant. */
export type RoutedMessage =
  | { kind: 'record'; serviceId: string; item: LogItem }
  | { kind: 'unauthenticated'; reason: string; excerpt: string };

function header(m: KafkaLogMessage, name: string): string | undefined {
  const v = m.headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
}

/** The ingest keys a router keeps at most (one per service and key version): past it, it starts again from none. */
export const ROUTER_MAX_KEYS = 100_000;

/**
 * Routes the messages of one source: the service each claims, checked by its signature, and its one record as an
 * item. Keeps each (key version, service)'s ingest key and the parsers' caches; one instance per source, one
 * message at a time (synchronous).
 */
export class MessageRouter {
  private readonly keys = new Map<string, KeyObject | null>();
  private readonly csvRows: CsvlogRowParser;
  private readonly jsonTimestamps = newTimestampCache();

  constructor(private readonly ring: MasterKeyring, private readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {
    this.csvRows = new CsvlogRowParser();
  }

  /**
   * The message's service, checked by its signature, and its one record as an item (`endOffset`: the message's
   * offset, its dead letter's position). `known(serviceId)` says whether tenancy has the service.
   */
  route(m: KafkaLogMessage, offset: number, known: (serviceId: string) => boolean): RoutedMessage {
    const claim = m.key?.toString('utf8') ?? '';
    const shown = JSON.stringify(claim.slice(0, CLAIM_CHARS));
    if (claim === '' || claim.length > MAX_KEY_CHARS || !/^[\x21-\x7e]+$/.test(claim)) {
      return { kind: 'unauthenticated', reason: 'the message key is not a service id', excerpt: shown };
    }
    const value = m.value ?? Buffer.alloc(0);
    if (!known(claim)) return { kind: 'unauthenticated', reason: 'the message names a service that does not exist', excerpt: shown };
    if (!this.verify(claim, value, header(m, SIGNATURE_HEADER))) {
      return { kind: 'unauthenticated', reason: `${SIGNATURE_HEADER} is missing or not this service's`, excerpt: shown };
    }
    return { kind: 'record', serviceId: claim, item: this.recordOf(value, header(m, FORMAT_HEADER), offset) };
  }

  /** Whether `signature` is `value`'s under the ingest key of `serviceId` (any configured key version). */
  verify(serviceId: string, value: Buffer, signature: string | undefined): boolean {
    const m = /^(\d{1,10})\.([A-Za-z0-9_-]{43})$/.exec(signature ?? '');
    if (!m) return false;
    const key = this.key(Number(m[1]), serviceId);
    if (!key) return false;
    const expected = createHmac('sha256', key).update(value).digest();
    const given = Buffer.from(m[2]!, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private key(version: number, serviceId: string): KeyObject | null {
    const id = `${version}\u0000${serviceId}`;
    let key = this.keys.get(id);
    if (key === undefined) {
      const derived = ingestKey(this.ring, version, serviceId);
      key = derived ? createSecretKey(derived) : null;
      if (this.keys.size >= ROUTER_MAX_KEYS) this.keys.clear();   // bounded: a flood of services costs derivations, not memory
      this.keys.set(id, key);
    }
    return key;
  }

  /**
   * One message's value as its one record (csvlog or jsonlog); anything else is a malformed item. A value of one
   * line (most are) is parsed as it is; one with line ends inside (a csvlog statement over several lines, or more
   * than one record) goes through a splitter, which tells one record from several.
   */
  private recordOf(value: Buffer, format: string | undefined, offset: number): LogItem {
    const excerpt = () => value.subarray(0, 4096).toString('utf8');
    if (format !== 'csvlog' && format !== 'jsonlog') {
      return malformed(`${FORMAT_HEADER} must be ${KAFKA_LOG_FORMATS.join(' or ')}`, excerpt(), offset);
    }
    if (value.length > this.maxRecordBytes) {
      return malformed(`the record is over ${this.maxRecordBytes} bytes`, excerpt(), offset, 'record_too_large');
    }
    let end = value.length;
    if (value[end - 1] === 0x0a) end -= 1;
    if (value[end - 1] === 0x0d) end -= 1;
    const newline = value.indexOf(0x0a);
    const oneLine = end > 0 && (newline === -1 || newline >= end);
    const item = oneLine ? this.oneLine(value.toString('utf8', 0, end), format, offset) : this.split(value, format, offset);
    if (item === null) return malformed(`a message holds one ${format} record; this one holds none`, excerpt(), offset);
    return item.ok ? { ...item, endOffset: offset, record: { ...item.record, endOffset: offset } } : { ...item, endOffset: offset };
  }

  private oneLine(text: string, format: KafkaLogFormat, offset: number): LogItem | null {
    if (format === 'csvlog') return this.csvRows.row(text, offset);
    return text.trim() === '' ? null : jsonlogLineToItem(text, offset, undefined, this.jsonTimestamps);
  }

  private split(value: Buffer, format: KafkaLogFormat, offset: number): LogItem | null {
    const options = { maxRecordBytes: this.maxRecordBytes };
    const splitter = format === 'csvlog' ? new CsvlogSplitter(options) : new JsonlogSplitter(options);
    const items = [...splitter.push(value), ...(value[value.length - 1] === 0x0a ? [] : splitter.push('\n')), ...splitter.end()];
    if (items.length > 1) return malformed(`a message holds one ${format} record; this one holds ${items.length}`, value.subarray(0, 4096).toString('utf8'), offset);
    return items[0] ?? null;
  }
}
