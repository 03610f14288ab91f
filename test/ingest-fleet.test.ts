/**
 * Fleet mode on real servers: two `ingest --fleet` processes (the built CLI) share the log directories of four
 * services under one root through leases in the gateway database, each taking its fair share; every audit line is
 * indexed once. One process is killed -9: once its leases expire the other takes its services and reads what
 * was written since, from the checkpoints, again exactly once. A directory that names no service is left alone.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LeaseRepository } from '../src/modules/ingest/lease.repository';
import { generateCsvlog } from './support/csvlog-generator';
import { createTenant, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { eventCount, startCli, waitFor } from './support/ingesters';

let g: TestGateway;
let tenant: Tenant;
let root: string;
const services: string[] = [];
const expected = new Map<string, number>();
const processes: ChildProcess[] = [];

function startFleet(name: string): ChildProcess {
  const child = startCli(['ingest', '--fleet', '--log-root', root, '--lease-seconds', '3'], path.join(root, `${name}.log`));
  processes.push(child);
  return child;
}

const allThere = async () => (await Promise.all(services.map(async (s) => (await eventCount(s)) === expected.get(s)))).every(Boolean);

/** A csvlog file of `auditLines` audit lines for a service (seeded: the same file for the same seed). */
function writeLog(serviceId: string, file: string, seed: number, auditLines: number, startMs: number): void {
  const gen = generateCsvlog({ seed, auditLines, start: new Date(startMs), forgedEvery: 0 });
  fs.writeFileSync(path.join(root, serviceId, file), gen.bytes);
  expected.set(serviceId, (expected.get(serviceId) ?? 0) + gen.audit.length);
}

beforeAll(async () => {
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();
  tenant = await createTenant(g, { serviceUrl: urls.pgaudit });
  services.push(tenant.serviceId);
  for (let i = 1; i < 4; i++) services.push((await g.gateway.tenancy.registerService(tenant.projectId, `fleet-${i}-${Date.now()}`, urls.pgaudit)).id);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pga-fleet-'));
  services.forEach((s, i) => {
    fs.mkdirSync(path.join(root, s));
    writeLog(s, 'postgresql-2026-12-05_000000.csv', 100 + i, 40, Date.now() - 3_600_000 + i * 60_000);
  });
  fs.mkdirSync(path.join(root, randomUUID()));   // names no service
}, 60_000);

afterAll(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await g?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

it('two processes share four services, a fair share each; every audit line indexed once; a killed one\'s services move to the other', async () => {
  startFleet('fleet-a');
  startFleet('fleet-b');
  const leases = new LeaseRepository(g.gateway.db.prisma);
  await waitFor('every service indexed', allThere);
  await waitFor('two services each', async () => {
    const held = [...(await leases.holders()).entries()].filter(([s]) => services.includes(s));
    const per = new Map<string, number>();
    for (const [, h] of held) per.set(h, (per.get(h) ?? 0) + 1);
    return held.length === 4 && [...per.values()].every((n) => n === 2);
  }, 30_000);

  // kill -9 the holder of the first service, then write more for every service
  const holders = await leases.holders();
  const victimPid = Number(holders.get(services[0]!)!.split(':')[1]);
  const victim = processes.find((p) => p.pid === victimPid)!;
  expect(victim).toBeDefined();
  victim.kill('SIGKILL');
  services.forEach((s, i) => writeLog(s, 'postgresql-2026-12-05_010000.csv', 200 + i, 25, Date.now() - 1_800_000 + i * 60_000));
  await waitFor('the survivor holding all four', async () => {
    const held = [...(await leases.holders()).entries()].filter(([s]) => services.includes(s));
    return held.length === 4 && new Set(held.map(([, h]) => h)).size === 1 && Number(held[0]![1].split(':')[1]) !== victimPid;
  }, 30_000);
  await waitFor('what was written since, indexed', allThere);
  await new Promise((r) => setTimeout(r, 1500));   // nothing more arrives: nothing twice
  for (const s of services) expect(await eventCount(s)).toBe(expected.get(s));
}, 150_000);
