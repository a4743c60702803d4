import { status } from '@grpc/grpc-js';
import { httpGet, waitFor } from '@apogee/testing';
import { grpcError, replica, startTestNameserver, topic, type TestNameserver } from './nameserver-fixture';

const WINDOW_MS = 300;

// A short eviction window on a real nameserver; waits poll, they never sleep a fixed time.
describe('nameserver eviction', () => {
  let ns: TestNameserver;
  let heartbeats: NodeJS.Timeout | undefined;
  beforeEach(async () => {
    ns = await startTestNameserver({ evictionWindowMs: WINDOW_MS, evictionCheckIntervalMs: 20 });
  });
  afterEach(async () => {
    clearInterval(heartbeats);
    await ns.stop();
  });

  it('drops a silent broker and its queues, and keeps one that heartbeats', async () => {
    const alive = replica('broker-a', 0, 8081, [topic('orders')]);
    const silent = replica('broker-b', 0, 8083, [topic('orders'), topic('only-on-b')]);
    const timing = await ns.client.register(alive);
    expect(timing).toEqual({ heartbeatIntervalMs: WINDOW_MS / 4, evictionWindowMs: WINDOW_MS });
    await ns.client.register(silent);
    const registeredAt = Date.now();
    heartbeats = setInterval(() => void ns.client.heartbeat(alive).catch(() => undefined), timing.heartbeatIntervalMs);

    await waitFor(async () => (await ns.client.clusterInfo()).brokers.length === 1, { what: 'broker-b evicted' });
    expect(Date.now() - registeredAt).toBeGreaterThan(WINDOW_MS);
    const route = await ns.client.queryRoute('orders');
    expect(new Set(route.queues.map((q) => q.brokerName))).toEqual(new Set(['broker-a']));
    expect((await grpcError(ns.client.queryRoute('only-on-b'))).code).toBe(status.NOT_FOUND);
    await expect(ns.client.listTopics()).resolves.toEqual(['orders']);

    const evictions = ns.logs.filter((l) => l.msg === 'broker evicted');
    expect(evictions).toEqual([
      expect.objectContaining({ level: 40, component: 'routes', broker: 'broker-b', brokerId: 0, address: '127.0.0.1:8083', windowMs: WINDOW_MS }),
    ]);
    expect(evictions[0].silentMs).toBeGreaterThan(WINDOW_MS);
    const metrics = (await httpGet(ns.service.metricsAddress, '/metrics')).body;
    expect(metrics).toContain('apogee_nameserver_evictions_total 1');
    expect(metrics).toContain('apogee_nameserver_live_brokers 1');
  });

  it('asks an evicted broker to re-register, and routes it again once it does', async () => {
    const broker = replica('broker-b', 0, 8083, [topic('orders')]);
    await ns.client.register(broker);
    await waitFor(async () => (await ns.client.listTopics()).length === 0, { what: 'eviction' });
    await expect(ns.client.heartbeat(broker)).resolves.toEqual({ reregister: true });
    await ns.client.register(broker);
    expect((await ns.client.queryRoute('orders')).brokers).toEqual([{ brokerName: 'broker-b', brokerId: 0, address: '127.0.0.1:8083' }]);
  });
});
