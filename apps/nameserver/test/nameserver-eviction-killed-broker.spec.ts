import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { createBrokerAdminClient, createNameServerClient, type NameServerClient } from '@apogee/protocol';
import { spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { grpcError } from './nameserver-fixture';

// Real processes: a nameserver with a short eviction window and two brokers registered with it.
// One broker is killed with SIGKILL, so it never unregisters: the nameserver must evict it on
// its own once its heartbeats stop, and keep routing the broker that still heartbeats.
const WINDOW_MS = 600;
jest.setTimeout(20_000);

describe('nameserver eviction of a killed broker process', () => {
  let dir = '';
  const processes: SpawnedService[] = [];
  let client: NameServerClient | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-nameserver-killed-broker-'));
  });
  afterAll(async () => {
    client?.close();
    for (const service of processes.reverse()) {
      if (service.child.exitCode === null && service.child.signalCode === null) await service.stop('SIGTERM').catch(() => service.kill());
    }
    await rm(dir, { recursive: true, force: true });
  });

  const brokerNames = async (): Promise<string[]> => (await client!.clusterInfo()).brokers.map((b) => b.brokerName).sort();

  it('drops a SIGKILLed broker from cluster info and routes within the window, and keeps the live one', async () => {
    const ns = await spawnService({
      app: 'nameserver',
      args: ['--eviction-window-ms', String(WINDOW_MS), '--eviction-check-interval-ms', '20'],
    });
    processes.push(ns);
    client = createNameServerClient(ns.grpcAddress, { timeoutMs: 2_000 });
    const [doomed, survivor] = await Promise.all(
      ['broker-doomed', 'broker-survivor'].map((name) => {
        const args = ['--nameservers', ns.grpcAddress, '--broker-name', name, '--data-dir', path.join(dir, name)];
        return spawnService({ app: 'broker', args });
      }),
    );
    processes.push(doomed, survivor);
    for (const broker of [doomed, survivor]) {
      const admin = createBrokerAdminClient(broker.grpcAddress);
      try {
        await admin.call('CreateTopic', { name: 'evict-orders', read_queue_count: 2, write_queue_count: 2, message_type: 'NORMAL' });
      } finally {
        admin.close();
      }
    }
    await waitFor(async () => (await client!.queryRoute('evict-orders')).brokers.length === 2, { what: 'both brokers in the route' });
    // both outlive a few windows: their heartbeats keep them registered
    const registeredAt = Date.now();
    await waitFor(() => Date.now() - registeredAt > 2 * WINDOW_MS, { timeoutMs: 4 * WINDOW_MS, what: 'two windows' });
    expect(await brokerNames()).toEqual(['broker-doomed', 'broker-survivor']);

    await expect(doomed.stop('SIGKILL')).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    // the eviction log line below shows it was evicted, not unregistered
    await waitFor(async () => (await brokerNames()).join() === 'broker-survivor', { timeoutMs: 5_000, what: 'the killed broker evicted' });
    const route = await client.queryRoute('evict-orders');
    expect(route.brokers).toEqual([{ brokerName: 'broker-survivor', brokerId: 0, address: survivor.grpcAddress }]);
    expect(new Set(route.queues.map((q) => q.brokerName))).toEqual(new Set(['broker-survivor']));

    const evictions = await waitFor(() => {
      const lines = ns.logs.filter((l) => l.msg === 'broker evicted');
      return lines.length > 0 && lines;
    }, { what: 'the eviction log line' });
    expect(evictions).toEqual([expect.objectContaining({ broker: 'broker-doomed', address: doomed.grpcAddress, windowMs: WINDOW_MS })]);

    // once the survivor is stopped cleanly too, the topic has no route at all
    await expect(survivor.stop('SIGTERM')).resolves.toEqual({ code: 0, signal: null });
    expect((await grpcError(client.queryRoute('evict-orders'))).code).toBe(status.NOT_FOUND);
  });
});
