/**
 * Waits `ms`, or less if `signal` aborts: the one way a long-running loop pauses between passes. Node's own timer
 * (timers/promises) removes its abort listener when it fires, so a loop that pauses every second leaks nothing.
 */
import { setTimeout as delay } from 'node:timers/promises';

export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
