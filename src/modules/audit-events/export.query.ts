/**
 * The OpenSearch requests of an export. Pure: no I/O. The same query as auditEvents (eventQuery: the service
 * `term` filter inside the query, user text only as values), read through a point in time (PIT) with
 * `search_after` in a total order: newest first like auditEvents (timestamp, tiebreak), then the event id,
 * unique, so two events never compare equal and a position found in one PIT means the same in another.
 */
import { invalidArgument } from './audit-events.errors';
import type { AuditEventFilter } from './audit-events.types';
import { INDEX_PATTERN } from './event.index';
import { eventQuery } from './event.query';
import type { ExportPosition } from './export.token';

/** Largest page an export reads (OpenSearch's default max_result_window bounds one search_after page). */
export const MAX_EXPORT_PAGE = 10_000;

/** Documents without a tiebreak (written by versions before it existed) sort as this value; ids still order them. */
export const MISSING_TIEBREAK = -1;

export const EXPORT_SORT = [
  { timestamp: { order: 'desc' } },
  { tiebreak: { order: 'desc', unmapped_type: 'long', missing: MISSING_TIEBREAK } },
  { id: { order: 'desc' } },
] as const;

/** `POST /<pattern>/_search/point_in_time?keep_alive=...`: the path and query string that open an export's PIT. */
export function openPitRequest(keepAlive: string) {
  return { path: `/${INDEX_PATTERN}/_search/point_in_time`, querystring: { keep_alive: keepAlive, allow_partial_pit_creation: 'false' } };
}

/** One page of an export: `size` events after `after` (none: from the newest), in the PIT `pitId` (POST /_search). */
export function buildExportPage(serviceId: string, filter: AuditEventFilter, pitId: string, keepAlive: string, size: number, after: ExportPosition | null) {
  if (!Number.isInteger(size) || size < 1 || size > MAX_EXPORT_PAGE) throw invalidArgument(`page size must be 1 to ${MAX_EXPORT_PAGE}`, 'pageSize');
  return {
    size,
    track_total_hits: false,
    pit: { id: pitId, keep_alive: keepAlive },
    sort: EXPORT_SORT,
    ...(after ? { search_after: after } : {}),
    query: eventQuery(serviceId, filter),
  };
}

/**
 * The position of one event of the export (`after` of a resume: the last event a client kept), looked up in the
 * PIT with the export's own query, so only an event the export would write has a position.
 */
export function buildExportLocate(serviceId: string, filter: AuditEventFilter, pitId: string, keepAlive: string, id: string) {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw invalidArgument('after must be the id of an exported event', 'after');
  return {
    size: 1,
    track_total_hits: false,
    _source: false,
    pit: { id: pitId, keep_alive: keepAlive },
    sort: EXPORT_SORT,
    query: { bool: { filter: [eventQuery(serviceId, filter), { ids: { values: [id] } }] } },
  };
}

/** The sort values OpenSearch returns for a hit, checked: a position a token can carry. */
export function positionOf(sort: unknown): ExportPosition {
  if (Array.isArray(sort) && sort.length === 3 && Number.isSafeInteger(sort[0]) && Number.isSafeInteger(sort[1]) && typeof sort[2] === 'string') {
    return [sort[0], sort[1], sort[2]];
  }
  throw new Error(`unexpected sort values of an exported event: ${JSON.stringify(sort).slice(0, 200)}`);
}
