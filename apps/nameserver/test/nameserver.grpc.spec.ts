import { status } from '@grpc/grpc-js';
import { checkHealth, ERROR_CODE_METADATA_KEY, NAMESERVER_SERVICE_NAME } from '@apogee/protocol';
import { Permission } from '@apogee/routing';
import { httpGet } from '@apogee/testing';
import { grpcError, replica, startTestNameserver, topic, type TestNameserver } from './nameserver-fixture';

// Real nameservers on loopback port 0, driven through createNameServerClient.
describe('nameserver over gRPC', () => {
  let ns: TestNameserver;
  beforeEach(async () => {
    ns = await startTestNameserver();
  });
  afterEach(async () => ns.stop());

  const masterA = replica('broker-a', 0, 8081, [topic('orders', 4), topic('audit', 2, 'FIFO')]);
  const slaveA = replica('broker-a', 1, 8082, [topic('orders', 4), topic('audit', 2, 'FIFO')]);
  const masterB = replica('broker-b', 0, 8083, [topic('orders', 2)]);

  it('merges a topic across two broker groups, the master serving its group', async () => {
    await expect(ns.client.register(slaveA)).resolves.toEqual({ heartbeatIntervalMs: 30_000, evictionWindowMs: 120_000 });
    await ns.client.register(masterA);
    await ns.client.register(masterB);

    const route = await ns.client.queryRoute('orders');
    expect(route.brokers).toEqual([
      { brokerName: 'broker-a', brokerId: 0, address: '127.0.0.1:8081' },
      { brokerName: 'broker-b', brokerId: 0, address: '127.0.0.1:8083' },
    ]);
    expect(route.queues.map((q) => `${q.brokerName}/${q.queueId}`)).toEqual([
      ...['broker-a/0', 'broker-a/1', 'broker-a/2', 'broker-a/3'],
      ...['broker-b/0', 'broker-b/1'],
    ]);
    expect(route.queues[0]).toEqual({
      topic: 'orders',
      brokerName: 'broker-a',
      queueId: 0,
      permission: Permission.READ_WRITE,
      acceptMessageTypes: ['NORMAL'],
    });
    const audit = await ns.client.queryRoute('audit');
    expect(audit.queues.every((q) => q.acceptMessageTypes.join() === 'FIFO')).toBe(true);
    await expect(ns.client.listTopics()).resolves.toEqual(['audit', 'orders']);
  });

  it('serves a group without a master from its slave, read-only', async () => {
    await ns.client.register(slaveA);
    const route = await ns.client.queryRoute('orders');
    expect(route.brokers).toEqual([{ brokerName: 'broker-a', brokerId: 1, address: '127.0.0.1:8082' }]);
    expect(route.queues.every((q) => q.permission === Permission.READ)).toBe(true);
  });

  it('describes the cluster: groups, replicas, roles and heartbeat times', async () => {
    const before = Date.now();
    await Promise.all([ns.client.register(masterA), ns.client.register(slaveA), ns.client.register(masterB)]);
    const info = await ns.client.clusterInfo();
    expect(info.clusters).toEqual([{ clusterName: 'DefaultCluster', brokerNames: ['broker-a', 'broker-b'] }]);
    expect(info.brokers[0].replicas.map((r) => [r.brokerId, r.address, r.role])).toEqual([
      [0, '127.0.0.1:8081', 'MASTER'],
      [1, '127.0.0.1:8082', 'SLAVE'],
    ]);
    expect(info.brokers[0].replicas[0].lastHeartbeatMs).toBeGreaterThanOrEqual(before);
    expect(info.brokers[0].replicas[0].lastHeartbeatMs).toBeLessThanOrEqual(Date.now());
  });

  it('removes an unregistered broker at once', async () => {
    await ns.client.register(masterA);
    await ns.client.register(masterB);
    await expect(ns.client.unregister({ brokerName: 'broker-b', brokerId: 0 })).resolves.toEqual({ removed: true });
    expect((await ns.client.queryRoute('orders')).brokers.map((b) => b.brokerName)).toEqual(['broker-a']);
    await expect(ns.client.unregister({ brokerName: 'broker-b', brokerId: 0 })).resolves.toEqual({ removed: false });
    expect(ns.logs).toContainEqual(expect.objectContaining({ msg: 'broker unregistered', broker: 'broker-b', brokerId: 0 }));
  });

  it('answers NOT_FOUND for a topic nobody serves', async () => {
    await ns.client.register(masterA);
    const err = await grpcError(ns.client.queryRoute('nobody-serves-this'));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toContain('Topic "nobody-serves-this" has no route');
    expect(err.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual(['NOT_FOUND']);
  });

  it('tells a broker it does not know to re-register', async () => {
    const ref = { brokerName: 'broker-a', brokerId: 0, address: '127.0.0.1:8081' };
    await expect(ns.client.heartbeat(ref)).resolves.toEqual({ reregister: true });
    await ns.client.register(masterA);
    await expect(ns.client.heartbeat(ref)).resolves.toEqual({ reregister: false });
    // Another process claiming the replica's id is not it.
    await expect(ns.client.heartbeat({ ...ref, address: '127.0.0.1:9999' })).resolves.toEqual({ reregister: true });
  });

  it.each([
    ['a broker name with a space', { brokerName: 'broker a' }, 'INVALID_BROKER_NAME', "Broker name \"broker a\" contains the illegal character \" \" at index 6; allowed: letters, digits, '_' and '-'"],
    ['an empty cluster name', { clusterName: '' }, 'INVALID_CLUSTER_NAME', 'Cluster name is empty; allowed:'],
    ['an address without a port', { address: 'broker-a.local' }, 'INVALID_BROKER_ADDRESS', 'it must be host:port'],
    ['a negative broker id', { brokerId: -1 }, 'INVALID_BROKER_ID', 'allowed: an integer from 0 (master)'],
    ['a slave id with role MASTER', { brokerId: 2, role: 'MASTER' as const }, 'INVALID_BROKER_ID', 'the master registers with broker id 0'],
    ['a topic name with a dot', { topics: [topic('ok'), { ...topic('x'), name: 'a.b' }] }, 'INVALID_TOPIC_NAME', 'Topic name "a.b" contains the illegal character "."'],
    ['zero queues', { topics: [{ ...topic('t'), readQueueCount: 0 }] }, 'INVALID_QUEUE_COUNT', 'read queue count 0; allowed: an integer from 1 to 1024'],
    ['no message type', { topics: [{ ...topic('t'), messageType: undefined as never }] }, 'INVALID_MESSAGE_TYPE', 'allowed: NORMAL, FIFO, DELAY, TRANSACTION'],
    ['a bad permission', { topics: [{ ...topic('t'), permission: 99 }] }, 'INVALID_PERMISSION', 'e.g. 6 for read-write'],
  ])('refuses a registration with %s as INVALID_ARGUMENT', async (_what, change, code, message) => {
    const err = await grpcError(ns.client.register({ ...masterA, ...change }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain(message);
    expect(err.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual([code]);
    expect(ns.logs).toContainEqual(expect.objectContaining({ msg: 'request refused', method: 'RegisterBroker', code }));
    await expect(ns.client.listTopics()).resolves.toEqual([]);
  });

  it('refuses bad names in heartbeats, unregistrations and queries', async () => {
    const bad = [
      ns.client.heartbeat({ brokerName: 'a/b', brokerId: 0, address: '127.0.0.1:1' }),
      ns.client.heartbeat({ brokerName: 'a', brokerId: 0, address: '' }),
      ns.client.unregister({ brokerName: '', brokerId: 0 }),
      ns.client.queryRoute('orders?'),
      ns.client.queryRoute(''),
    ];
    for (const err of await Promise.all(bad.map(grpcError))) {
      expect([err.code, err.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(/allowed|must be host:port/)]);
    }
  });

  it('refuses a broker name alive under another cluster as FAILED_PRECONDITION', async () => {
    await ns.client.register(masterA);
    const err = await grpcError(ns.client.register({ ...slaveA, clusterName: 'OtherCluster' }));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('all replicas of a broker group must use the same cluster name');
  });

  it('keeps nameservers independent of each other', async () => {
    const other = await startTestNameserver();
    try {
      await ns.client.register(masterA);
      await expect(other.client.listTopics()).resolves.toEqual([]);
      await expect(other.client.clusterInfo()).resolves.toEqual({ clusters: [], brokers: [] });
      expect((await grpcError(other.client.queryRoute('orders'))).code).toBe(status.NOT_FOUND);
      await other.client.register(masterB);
      expect((await ns.client.queryRoute('orders')).brokers.map((b) => b.brokerName)).toEqual(['broker-a']);
    } finally {
      await other.stop();
    }
  });

  it('reports live brokers and registrations in /metrics, and the service in health', async () => {
    await ns.client.register(masterA);
    await ns.client.register(slaveA);
    await ns.client.register(masterA);
    const metrics = (await httpGet(ns.service.metricsAddress, '/metrics')).body;
    expect(metrics).toContain('apogee_nameserver_live_brokers 2');
    expect(metrics).toContain('apogee_nameserver_registrations_total 3');
    expect(metrics).toContain('apogee_nameserver_evictions_total 0');
    await ns.client.unregister({ brokerName: 'broker-a', brokerId: 1 });
    expect((await httpGet(ns.service.metricsAddress, '/metrics')).body).toContain('apogee_nameserver_live_brokers 1');
    await expect(checkHealth(ns.service.grpcAddress, { service: NAMESERVER_SERVICE_NAME })).resolves.toBe('SERVING');
  });
});
