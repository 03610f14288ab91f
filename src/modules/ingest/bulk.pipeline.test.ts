/**
 * The bulk pipeline over a store whose requests the test answers in any order (unit test: the store is faked):
 * batches are cut by count and bytes, acknowledged strictly in order whatever order OpenSearch answers in, at most
 * maxInFlight requests are out at once, a mark moves even without documents, and after a failure nothing later is
 * reported.
 */
import type { BulkBody } from '../audit-events/bulk-body';
import type { BulkResult, EventStore } from '../audit-events/event.store';
import type { Logger } from '../../base/logger';
import { BulkPipeline } from './bulk.pipeline';

const logger: Logger = { info() {}, warn() {}, error() {}, debug() {}, child() { return logger; } } as unknown as Logger;

/** A store whose bulk requests wait until the test resolves or rejects them. */
function heldStore() {
  const requests: { count: number; resolve: (r: BulkResult) => void; reject: (e: Error) => void }[] = [];
  const store = {
    bulkWrite: (body: BulkBody) => new Promise<BulkResult>((resolve, reject) => { requests.push({ count: body.count, resolve, reject }); }),
  } as unknown as EventStore;
  const ok = (count: number): BulkResult => ({ indexed: count, duplicates: 0, rejected: [], attempts: 1 } as BulkResult);
  return { store, requests, ok };
}

const op = (id: string) => ({ id, ndjson: `{"create":{"_index":"x","_id":"${id}"}}\n{}\n` });
const tick = () => new Promise((r) => setImmediate(r));

it('cuts batches at batchSize, acknowledges them in order whatever order they are answered in, at most maxInFlight out', async () => {
  const { store, requests, ok } = heldStore();
  const acks: number[] = [];
  const pipeline = new BulkPipeline<number>(store, logger, async (mark) => { acks.push(mark); }, { batchSize: 2, maxInFlight: 2 });
  const feeding = (async () => {
    for (let i = 1; i <= 6; i++) {
      pipeline.current.body.add(op(`e${i}`));
      pipeline.current.event('2026-01-01T00:00:00.000Z');
      await pipeline.added(i);
    }
    await pipeline.drain();
  })();
  await tick();
  // two batches out; the third waits for a slot
  expect(requests.map((r) => r.count)).toEqual([2, 2]);
  requests[1]!.resolve(ok(2));   // the second answers first: nothing is reported yet
  await tick();
  expect(acks).toEqual([]);
  requests[0]!.resolve(ok(2));
  await tick();
  expect(acks).toEqual([2, 4]);
  expect(requests).toHaveLength(3);
  requests[2]!.resolve(ok(2));
  await feeding;
  expect(acks).toEqual([2, 4, 6]);
});

it('a mark moves without documents (lines that are neither audit nor session events), and an empty pipeline sends nothing', async () => {
  const { store, requests, ok } = heldStore();
  const acks: [number, number][] = [];
  const pipeline = new BulkPipeline<number>(store, logger, async (mark, counts) => { acks.push([mark, counts.events]); });
  await pipeline.drain();
  expect(requests).toHaveLength(0);
  await pipeline.added(120);
  const drained = pipeline.drain();
  await tick();
  requests[0]!.resolve(ok(0));
  await drained;
  expect(acks).toEqual([[120, 0]]);
});

it('after a failed request nothing later is reported, and drain throws the failure', async () => {
  const { store, requests, ok } = heldStore();
  const acks: number[] = [];
  const pipeline = new BulkPipeline<number>(store, logger, async (mark) => { acks.push(mark); }, { batchSize: 1, maxInFlight: 4 });
  for (let i = 1; i <= 3; i++) {
    pipeline.current.body.add(op(`e${i}`));
    await pipeline.added(i);
  }
  requests[0]!.resolve(ok(1));
  requests[1]!.reject(new Error('STORE_UNAVAILABLE'));
  requests[2]!.resolve(ok(1));
  await expect(pipeline.drain()).rejects.toThrow('STORE_UNAVAILABLE');
  await pipeline.settle();
  expect(acks).toEqual([1]);
});
