/** The stored events both in-process and over-HTTP CPU benches answer with (graphql-cpu.ts, query-path-cpu.ts). */
import type { AuditEventDocument } from '../src/modules/audit-events/event.document';

/** The service every canned event belongs to. */
export const CANNED_SERVICE = '0b6f2a1e-8a51-4c3b-9d61-3a1a7f0e9c11';

/** One stored event, as the store returns it: an UPDATE of public.accounts with two parameters. */
export function cannedEvent(i: number): AuditEventDocument {
  return {
    id: `ev-${i}-0123456789abcdef0123456789abcdef`, serviceId: CANNED_SERVICE, timestamp: new Date(Date.UTC(2026, 10, 1) + i * 250).toISOString(), auditType: 'SESSION',
    statementId: i, substatementId: 1, class: 'WRITE', command: 'UPDATE', objectType: 'TABLE', objectName: 'public.accounts',
    statement: `update public.accounts set note = 'owner note ${i}', balance = balance + $1 where id = $2 and owner = 'alice'`, statementStatus: 'LOGGED',
    parameters: ['10', String(i)], rows: 1, user: 'analyst', database: 'app', sessionId: '6572e3a1.1f2c', sessionLineNum: i, applicationName: 'psql', remoteHost: '10.0.0.5',
  } as AuditEventDocument;
}

