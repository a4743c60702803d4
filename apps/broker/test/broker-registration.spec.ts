import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import type { NameServerClient } from '@apogee/protocol';
import { Permission } from '@apogee/routing';
import { httpGet, spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { linesOf, expectLines, portOf, stopProcess, useRegistrationCluster } from './registration-fixture';

// Real nameserver processes and in-process brokers on free loopback ports: the broker registers
// with every configured nameserver, keeps its topics current there, and leaves on a clean stop.
const cluster = useRegistrationCluster();
jest.setTimeout(20_000); // spawns nameserver processes

/** The replicas a nameserver lists, as "name/id@address". */
async function replicas(client: NameServerClient): Promise<string[]> {
  const info = await client.clusterInfo();
  return info.brokers.flatMap((group) => group.replicas.map((r) => `${group.brokerName}/${r.brokerId}@${r.address}`));
}

async function routeCode(client: NameServerClient, topic: string): Promise<number | 'found'> {
  return client.queryRoute(topic).then(
    () => 'found' as const,
    (err: { code: number }) => err.code,
  );
}

describe('broker registration with nameservers', () => {
  it('registers at start with its cluster, name, role and advertised address, and reports it in /metrics', async () => {
    const ns = await cluster.nameserver();
    const broker = await cluster.broker([ns.grpcAddress], { clusterName: 'c1', brokerName: 'broker-x' });
    const client = cluster.client(ns.grpcAddress);
    await waitFor(async () => (await replicas(client)).length === 1, { what: 'the registration' });
    const info = await client.clusterInfo();
    expect(info.clusters).toEqual([{ clusterName: 'c1', brokerNames: ['broker-x'] }]);
    expect(info.brokers[0].replicas).toEqual([expect.objectContaining({ brokerId: 0, role: 'MASTER', address: broker.service.advertisedAddress })]);
    expect(broker.service.advertisedAddress).toBe(broker.service.grpcAddress);
    const metrics = await waitFor(async () => {
      const body = (await httpGet(broker.service.metricsAddress, '/metrics')).body;
      return body.includes(`apogee_broker_registrations_total{nameserver="${ns.grpcAddress}"} 1`) && body;
    }, { what: 'the registration metrics' });
    expect(metrics).toContain(`apogee_broker_nameserver_registered{nameserver="${ns.grpcAddress}"} 1`);
    await expectLines(broker.logs, 'registered with nameserver', 1, { nameserver: ns.grpcAddress });
  });

  it('tells nameservers the advertised address, not the one it listens on', async () => {
    const ns = await cluster.nameserver();
    const broker = await cluster.broker([ns.grpcAddress], { brokerId: 2, masterAddress: '127.0.0.1:1', advertisedAddress: 'broker-a-2.mq.example:8081' });
    expect(broker.service.advertisedAddress).toBe('broker-a-2.mq.example:8081');
    const client = cluster.client(ns.grpcAddress);
    await waitFor(async () => (await replicas(client)).join() === 'broker-a/2@broker-a-2.mq.example:8081', { what: 'the slave' });
    expect((await client.clusterInfo()).brokers[0].replicas[0].role).toBe('SLAVE');
  });

  it('publishes topics created, changed and deleted through BrokerAdmin within a second', async () => {
    const ns = await cluster.nameserver();
    const { service, admin } = await cluster.broker([ns.grpcAddress]);
    const client = cluster.client(ns.grpcAddress);
    await waitFor(async () => (await replicas(client)).length === 1, { what: 'the registration' });

    await admin.call('CreateTopic', { name: 'orders', read_queue_count: 4, write_queue_count: 4, message_type: 'FIFO' });
    const route = await waitFor(() => client.queryRoute('orders'), { what: 'the route of orders', timeoutMs: 1_000, intervalMs: 20 });
    expect(route.brokers).toEqual([{ brokerName: 'broker-a', brokerId: 0, address: service.advertisedAddress }]);
    expect(route.queues.map((q) => [q.queueId, q.permission, q.acceptMessageTypes.join()])).toEqual(
      [0, 1, 2, 3].map((id) => [id, Permission.READ_WRITE, 'FIFO']),
    );

    await admin.call('UpdateTopic', { name: 'orders', read_queue_count: 6, write_queue_count: 6 });
    await waitFor(async () => (await client.queryRoute('orders')).queues.length === 6, { what: '6 queues', timeoutMs: 1_000 });
    await admin.call('DeleteTopic', { name: 'orders' });
    await waitFor(async () => (await routeCode(client, 'orders')) === status.NOT_FOUND, { what: 'no route', timeoutMs: 1_000 });
  });

  it('registers with every nameserver; a dead one holds up none of the others and is joined once it is up', async () => {
    const [live, dead] = await Promise.all([cluster.nameserver(), cluster.nameserver()]);
    await stopProcess(dead);
    const broker = await cluster.broker([dead.grpcAddress, live.grpcAddress]);
    const liveClient = cluster.client(live.grpcAddress);
    await waitFor(async () => (await replicas(liveClient)).length === 1, { what: 'the live nameserver', timeoutMs: 2_000 });
    await broker.admin.call('CreateTopic', { name: 'orders' });
    await waitFor(() => liveClient.queryRoute('orders'), { what: 'the route on the live nameserver', timeoutMs: 1_000 });

    const revived = await cluster.nameserver({ port: portOf(dead.grpcAddress) });
    const revivedClient = cluster.client(revived.grpcAddress);
    const route = await waitFor(() => revivedClient.queryRoute('orders'), { what: 'the route on the revived nameserver' });
    expect(route.brokers.map((b) => b.address)).toEqual([broker.service.advertisedAddress]);
    await waitFor(() => linesOf(broker.logs, 'registered with nameserver', { nameserver: dead.grpcAddress }).length > 0, {
      what: 'the registration log line',
    });
    // One line per state change, not one per failed attempt.
    await expectLines(broker.logs, 'nameserver failing', 1, { nameserver: dead.grpcAddress });
    await expectLines(broker.logs, 'nameserver failing', 0, { nameserver: live.grpcAddress });
    await expectLines(broker.logs, 'registered with nameserver', 1, { nameserver: dead.grpcAddress });
  });

  it('unregisters from every nameserver on a clean stop: routes drop it at once', async () => {
    const [a, b] = await Promise.all([cluster.nameserver(), cluster.nameserver()]);
    const broker = await cluster.broker([a.grpcAddress, b.grpcAddress]);
    await broker.admin.call('CreateTopic', { name: 'orders' });
    const clients = [cluster.client(a.grpcAddress), cluster.client(b.grpcAddress)];
    for (const client of clients) await waitFor(() => client.queryRoute('orders'), { what: `the route on ${client.address}` });

    await broker.stop();
    for (const client of clients) {
      await expect(routeCode(client, 'orders')).resolves.toBe(status.NOT_FOUND);
      await expect(replicas(client)).resolves.toEqual([]);
    }
    await expectLines(broker.logs, 'unregistered from nameserver', 2);
    await expectLines(a.logs, 'broker unregistered', 1);
    const order = broker.logs.map((l) => l.msg).filter((m) => m === 'unregistered from nameserver' || m === 'store closed');
    expect(order).toEqual(['unregistered from nameserver', 'unregistered from nameserver', 'store closed']);
  });

  it('heartbeats at the interval the nameserver gives, so it outlives many eviction windows', async () => {
    const windowMs = 300;
    const ns = await cluster.nameserver({ evictionWindowMs: windowMs });
    await cluster.broker([ns.grpcAddress]);
    const client = cluster.client(ns.grpcAddress);
    await waitFor(async () => (await replicas(client)).length === 1, { what: 'the registration' });
    const registeredAt = Date.now();
    const lastHeartbeat = async () => (await client.clusterInfo()).brokers[0]?.replicas[0]?.lastHeartbeatMs ?? 0;
    await waitFor(async () => (await lastHeartbeat()) > registeredAt + 4 * windowMs, { what: 'heartbeats', timeoutMs: 3_000 });
    expect(linesOf(ns.logs, 'broker evicted')).toEqual([]);
    await expectLines(ns.logs, 'broker registered', 1);
  });

  it('registers again when a heartbeat answers reregister', async () => {
    const ns = await cluster.nameserver({ evictionWindowMs: 400 });
    const broker = await cluster.broker([ns.grpcAddress]);
    await broker.admin.call('CreateTopic', { name: 'orders' });
    const client = cluster.client(ns.grpcAddress);
    await waitFor(() => client.queryRoute('orders'), { what: 'the route' });
    await expect(client.unregister({ brokerName: 'broker-a', brokerId: 0 })).resolves.toEqual({ removed: true });

    await waitFor(() => client.queryRoute('orders'), { what: 'the route after the next heartbeat', timeoutMs: 2_000 });
    await expectLines(broker.logs, 'nameserver asked to re-register', 1);
    await expectLines(broker.logs, 'registered with nameserver', 2);
  });

  it('comes back to a nameserver restarted on the same address', async () => {
    const ns = await cluster.nameserver({ evictionWindowMs: 400 });
    const broker = await cluster.broker([ns.grpcAddress]);
    await broker.admin.call('CreateTopic', { name: 'orders', read_queue_count: 2, write_queue_count: 2 });
    const before = cluster.client(ns.grpcAddress);
    await waitFor(() => before.queryRoute('orders'), { what: 'the route' });

    await stopProcess(ns);
    const restarted = await cluster.nameserver({ port: portOf(ns.grpcAddress), evictionWindowMs: 400 });
    const client = cluster.client(restarted.grpcAddress);
    const route = await waitFor(() => client.queryRoute('orders'), { what: 'the route on the restarted nameserver' });
    expect(route.queues).toHaveLength(2);
    expect(route.brokers.map((b) => b.address)).toEqual([broker.service.advertisedAddress]);
    // Back through a failed heartbeat and a retry, or through a heartbeat answered reregister.
    await expectLines(broker.logs, 'registered with nameserver', 2);
    const metrics = (await httpGet(broker.service.metricsAddress, '/metrics')).body;
    expect(metrics).toContain(`apogee_broker_nameserver_registered{nameserver="${ns.grpcAddress}"} 1`);
  });
});

describe('broker and nameserver processes', () => {
  const spawned: SpawnedService[] = [];
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-registration-process-'));
  });
  afterAll(async () => {
    await Promise.all(spawned.map(stopProcess));
    await rm(dir, { recursive: true, force: true });
  });

  it('registers from --nameservers, and leaves the routes on SIGTERM', async () => {
    const ns = await spawnService({ app: 'nameserver' });
    spawned.push(ns);
    const args = ['--data-dir', path.join(dir, 'data'), '--nameservers', ns.grpcAddress, '--broker-name', 'broker-p'];
    const broker = await spawnService({ app: 'broker', args });
    spawned.push(broker);
    const client = cluster.client(ns.grpcAddress);
    await waitFor(async () => (await replicas(client)).join() === `broker-p/0@${broker.grpcAddress}`, { what: 'the registration' });

    await expect(broker.stop('SIGTERM')).resolves.toEqual({ code: 0, signal: null });
    await expect(replicas(client)).resolves.toEqual([]);
    const messages = broker.logs.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['registering with nameservers', 'registered with nameserver', 'unregistered from nameserver']));
    expect(messages.indexOf('unregistered from nameserver')).toBeLessThan(messages.indexOf('store closed'));
  });
});
