/**
 * The ingest loop redacts between parsing and encoding: what reaches the store (the bulk body's bytes) holds no
 * secret, for events and dead letters of a stderr stream (continuation lines, a line before the first record, a
 * forged AUDIT line), and a rule change takes effect from the next chunk. The store is faked (unit test); the same
 * path against the real servers: test/redaction.test.ts.
 */
import type { BulkBody } from '../audit-events/bulk-body';
import type { EventStore } from '../audit-events/event.store';
import { silentLogger } from '../../base/logger';
import type { CheckpointRepository } from './checkpoint.repository';
import { Ingester } from './ingester';
import { Redactor } from '../redaction/redactor';
import { NO_REDACTION } from '../redaction/redaction.rules';

const CARD = '4111 1111 1111 1111';
const chunk1 = [
  `junk before the first record: sekrit-0 ${CARD}`,
  `2026-11-24 19:25:37.255 UTC [1] u@d LOG:  AUDIT: SESSION,1,1,WRITE,INSERT,TABLE,public.t,"insert into t values ($1,`,
  `\t  'sekrit-1', 42)","${CARD},visible-1"`,
  `2026-11-24 19:25:37.256 UTC [1] u@d LOG:  AUDIT: SESSION,2,1,READ,SELECT,,,select 'sekrit-2',<none>`,
  '2026-11-24 19:25:37.256 UTC [1] u@d CONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE',
].join('\n') + '\n';
const chunk2 = [
  `2026-11-24 19:25:37.257 UTC [1] u@d LOG:  AUDIT: SESSION,3,1,WRITE,INSERT,TABLE,public.t,"insert into t values ($1, 'sekrit-3')",visible-2`,
  `2026-11-24 19:25:37.258 UTC [1] u@d LOG:  AUDIT: SESSION,x-sekrit-4,1,READ,SELECT,,,select 1,<none>`,
].join('\n') + '\n';

it('events and dead letters reach the store redacted; a rule change applies from the next chunk', async () => {
  const sent: string[] = [];
  const store = { async bulkWrite(body: BulkBody) { sent.push(body.bytes().toString('utf8')); return { indexed: body.count, duplicates: 0, rejected: [], attempts: 1 }; } };
  const v1 = new Redactor({ ...NO_REDACTION, maskStringLiterals: true, patterns: ['CARD_NUMBER'] }, 1);
  const v2 = new Redactor({ ...NO_REDACTION, maskStringLiterals: true, dropParameters: true }, 2);
  let asked = 0;
  const redaction = { async current() { asked++; return asked <= 2 ? v1 : v2; } };   // before the loop, before chunk 1, then v2
  const ingester = new Ingester({ id: 'svc', projectId: 'p', organizationId: 'o' }, '', store as unknown as EventStore,
    {} as CheckpointRepository, silentLogger, { redaction, now: () => Date.parse('2026-11-24T19:30:00Z') });
  async function* input() { yield chunk1; yield chunk2; }
  const stats = await ingester.ingestStream(input(), { source: 'unit', format: 'stderr', logLinePrefix: '%m [%p] %q%u@%d ' });
  expect(stats).toEqual({ events: 2, sessionEvents: 0, malformed: 3 });
  const docs = sent.join('').split('\n').filter((l) => l !== '' && !l.startsWith('{"create"')).map((l) => JSON.parse(l));
  const text = JSON.stringify(docs);
  for (const secret of ['sekrit', CARD, CARD.replace(/ /g, '')]) expect(text).not.toContain(secret);
  const events = docs.filter((d) => 'statement' in d);
  expect(events.map((e) => [e.statement, e.parameters, e.redaction.rulesVersion])).toEqual([
    ["insert into t values ($1,\n  '***', 42)", ['[REDACTED:CARD_NUMBER]', 'visible-1'], 1],
    ["insert into t values ($1, '***')", null, 2],
  ]);
  const letters = docs.filter((d) => 'excerpt' in d);
  expect(letters.map((l) => l.code).sort()).toEqual(['malformed', 'malformed_audit', 'not_from_pgaudit']);
  for (const l of letters) expect(l.reason).toMatch(/details withheld by redaction rules v[12]\)$/);
});
