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
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { derivedKey, type MasterKeyring } from '../../base/crypto/master-keys';
import { CsvlogSplitter } from './formats/csvlog.splitter';
import { JsonlogSplitter } from './formats/jsonlog.splitter';
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

/** Whether `signature` is `value`'s under the ingest key of `serviceId` (any configured key version). */
export function verifyLogRecord(ring: MasterKeyring, serviceId: string, value: Buffer, signature: string | undefined): boolean {
  const m = /^(\d{1,10})\.([A-Za-z0-9_-]{43})$/.exec(signature ?? '');
  if (!m) return false;
  const key = ingestKey(ring, Number(m[1]), serviceId);
  if (!key) return false;
  const expected = createHmac('sha256', key).update(value).digest();
  const given = Buffer.from(m[2]!, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The message's service, checked by its signature, and its one record as an item (`endOffset`: the message's
 * offset, its dead letter's position). `known(serviceId)` says whether tenancy has the service.
 */
export function routeMessage(m: KafkaLogMessage, offset: number, ring: MasterKeyring, known: (serviceId: string) => boolean,
  maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): RoutedMessage {
  const claim = m.key?.toString('utf8') ?? '';
  const shown = JSON.stringify(claim.slice(0, CLAIM_CHARS));
  if (claim === '' || claim.length > MAX_KEY_CHARS || !/^[\x21-\x7e]+$/.test(claim)) {
    return { kind: 'unauthenticated', reason: 'the message key is not a service id', excerpt: shown };
  }
  const value = m.value ?? Buffer.alloc(0);
  if (!known(claim)) return { kind: 'unauthenticated', reason: 'the message names a service that does not exist', excerpt: shown };
  if (!verifyLogRecord(ring, claim, value, header(m, SIGNATURE_HEADER))) {
    return { kind: 'unauthenticated', reason: `${SIGNATURE_HEADER} is missing or not this service's`, excerpt: shown };
  }
  return { kind: 'record', serviceId: claim, item: recordOf(value, header(m, FORMAT_HEADER), offset, maxRecordBytes) };
}

/** One message's value as its one record (csvlog or jsonlog); anything else is a malformed item. */
function recordOf(value: Buffer, format: string | undefined, offset: number, maxRecordBytes: number): LogItem {
  const excerpt = () => value.subarray(0, 4096).toString('utf8');
  if (format !== 'csvlog' && format !== 'jsonlog') {
    return malformed(`${FORMAT_HEADER} must be ${KAFKA_LOG_FORMATS.join(' or ')}`, excerpt(), offset);
  }
  if (value.length > maxRecordBytes) {
    return malformed(`the record is over ${maxRecordBytes} bytes`, excerpt(), offset, 'record_too_large');
  }
  const options = { maxRecordBytes };
  const splitter = format === 'csvlog' ? new CsvlogSplitter(options) : new JsonlogSplitter(options);
  const items = [...splitter.push(value), ...(value[value.length - 1] === 0x0a ? [] : splitter.push('\n')), ...splitter.end()];
  if (items.length !== 1) {
    return malformed(`a message holds one ${format} record; this one holds ${items.length === 0 ? 'none' : items.length}`, excerpt(), offset);
  }
  const item = items[0]!;
  return item.ok ? { ...item, endOffset: offset, record: { ...item.record, endOffset: offset } } : { ...item, endOffset: offset };
}
