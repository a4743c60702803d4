import { type MessageQueue, queueKey } from './message-queue';
import { Permission, toV2Permission } from './permissions';
import { type BrokerRegistration, emptyRouteTable, evictStale, register, type RouteTable } from './route-table';
import { clusterInfo, listTopics, queuesOf, routeOf } from './topic-route';
import { createTopicConfig, type TopicConfigInput } from './topics';
import { seededRandom } from '../test/seeded-random';

const topic = (input: Partial<TopicConfigInput> = {}) =>
  createTopicConfig({ name: 'orders', readQueueCount: 2, writeQueueCount: 2, ...input });

function table(...registrations: [Partial<BrokerRegistration>, number?][]): RouteTable {
  return registrations.reduce(
    (t, [overrides, nowMs]) =>
      register(
        t,
        { clusterName: 'c1', brokerName: 'broker-a', brokerId: 0, address: '10.0.0.1:8081', topics: [topic()], ...overrides },
        nowMs ?? 0,
      ),
    emptyRouteTable(),
  );
}

const perms = (queues: readonly MessageQueue[]) => queues.map((q) => `${q.brokerName}/${q.queueId}:${toV2Permission(q.permission)}`);

describe('queuesOf', () => {
  it('lists one READ_WRITE queue per id when counts are equal', () => {
    const queues = queuesOf(topic({ readQueueCount: 3, writeQueueCount: 3, messageType: 'FIFO' }), 'b');
    expect(queues).toEqual(
      [0, 1, 2].map((queueId) => ({
        topic: 'orders',
        brokerName: 'b',
        queueId,
        permission: Permission.READ_WRITE,
        acceptMessageTypes: ['FIFO'],
      })),
    );
  });

  it('numbers queues physically: queue i is readable if i < read, writable if i < write', () => {
    expect(perms(queuesOf(topic({ readQueueCount: 2, writeQueueCount: 4 }), 'b'))).toEqual([
      'b/0:READ_WRITE',
      'b/1:READ_WRITE',
      'b/2:WRITE',
      'b/3:WRITE',
    ]);
    expect(perms(queuesOf(topic({ readQueueCount: 4, writeQueueCount: 2 }), 'b'))).toEqual([
      'b/0:READ_WRITE',
      'b/1:READ_WRITE',
      'b/2:READ',
      'b/3:READ',
    ]);
  });

  it('applies the topic permission and leaves out queues it makes useless', () => {
    expect(perms(queuesOf(topic({ readQueueCount: 2, writeQueueCount: 4, permission: Permission.READ }), 'b'))).toEqual([
      'b/0:READ',
      'b/1:READ',
    ]);
    expect(perms(queuesOf(topic({ permission: Permission.WRITE }), 'b'))).toEqual(['b/0:WRITE', 'b/1:WRITE']);
  });

  it('lists an inaccessible topic as NONE queues, as RocketMQ proxy', () => {
    expect(perms(queuesOf(topic({ readQueueCount: 1, writeQueueCount: 3, permission: 0 }), 'b'))).toEqual([
      'b/0:NONE',
      'b/1:NONE',
      'b/2:NONE',
    ]);
  });

  it('makes a slave read-only', () => {
    expect(perms(queuesOf(topic(), 'b', 'SLAVE'))).toEqual(['b/0:READ', 'b/1:READ']);
  });

  it('gives queue 0 READ_WRITE for every read-write topic (Node clients need it; seeded)', () => {
    const random = seededRandom(11);
    for (let i = 0; i < 200; i++) {
      const config = topic({ readQueueCount: random.int(1, 64), writeQueueCount: random.int(1, 64) });
      const queues = queuesOf(config, 'b');
      expect(queues[0]).toMatchObject({ queueId: 0, permission: Permission.READ_WRITE });
      expect(queues).toHaveLength(Math.max(config.readQueueCount, config.writeQueueCount));
      expect(queues.filter((q) => q.permission & Permission.READ)).toHaveLength(config.readQueueCount);
      expect(queues.filter((q) => q.permission & Permission.WRITE)).toHaveLength(config.writeQueueCount);
    }
  });
});

describe('routeOf', () => {
  it('is undefined for a topic no broker serves', () => {
    expect(routeOf(emptyRouteTable(), 'orders')).toBeUndefined();
    expect(routeOf(table([{}]), 'payments')).toBeUndefined();
  });

  it('lists the master of each group, merged and sorted by broker name', () => {
    const t = table(
      [{ brokerName: 'broker-b', address: '10.0.0.3:8081', topics: [topic({ readQueueCount: 1, writeQueueCount: 1 })] }],
      [{}],
      [{ brokerId: 1, address: '10.0.0.2:8081' }],
    );
    const route = routeOf(t, 'orders');
    expect(route?.topic).toBe('orders');
    expect(route?.brokers).toEqual([
      { brokerName: 'broker-a', brokerId: 0, address: '10.0.0.1:8081' },
      { brokerName: 'broker-b', brokerId: 0, address: '10.0.0.3:8081' },
    ]);
    expect(perms(route?.queues ?? [])).toEqual(['broker-a/0:READ_WRITE', 'broker-a/1:READ_WRITE', 'broker-b/0:READ_WRITE']);
  });

  it('falls back to a read-only slave when the master is gone', () => {
    let t = table([{}, 0], [{ brokerId: 2, address: '10.0.0.3:8081' }, 5000], [{ brokerId: 1, address: '10.0.0.2:8081' }, 5000]);
    t = evictStale(t, 8000, 5000).table;
    const route = routeOf(t, 'orders');
    expect(route?.brokers).toEqual([{ brokerName: 'broker-a', brokerId: 1, address: '10.0.0.2:8081' }]);
    expect(perms(route?.queues ?? [])).toEqual(['broker-a/0:READ', 'broker-a/1:READ']);
  });

  it('uses the first slave that has the topic when the master is gone', () => {
    const t = table(
      [{ brokerId: 1, address: '10.0.0.2:8081', topics: [] }],
      [{ brokerId: 2, address: '10.0.0.3:8081' }],
    );
    expect(routeOf(t, 'orders')?.brokers).toEqual([{ brokerName: 'broker-a', brokerId: 2, address: '10.0.0.3:8081' }]);
  });

  it('trusts the master: a topic only its slave still has is not routed', () => {
    const t = table([{ topics: [] }], [{ brokerId: 1, address: '10.0.0.2:8081' }]);
    expect(routeOf(t, 'orders')).toBeUndefined();
  });

  it('has unique queues, each on a listed broker', () => {
    const t = table([{}], [{ brokerName: 'broker-b', address: '10.0.0.3:8081' }]);
    const route = routeOf(t, 'orders');
    const keys = (route?.queues ?? []).map(queueKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(['orders@broker-a@0', 'orders@broker-a@1', 'orders@broker-b@0', 'orders@broker-b@1']);
  });

  it('carries the message type of each group', () => {
    const t = table([{ topics: [topic({ messageType: 'DELAY' })] }]);
    expect(routeOf(t, 'orders')?.queues.every((q) => q.acceptMessageTypes.join() === 'DELAY')).toBe(true);
  });
});

describe('clusterInfo and listTopics', () => {
  const t = table(
    [{ clusterName: 'c2', brokerName: 'broker-z', address: '10.0.1.1:8081', topics: [topic({ name: 'zeta' })] }],
    [{ brokerId: 1, address: '10.0.0.2:8081' }, 7],
    [{ topics: [topic(), topic({ name: 'alpha' })] }, 5],
  );

  it('groups brokers by cluster, sorted', () => {
    const info = clusterInfo(t);
    expect(info.clusters).toEqual([
      { clusterName: 'c1', brokerNames: ['broker-a'] },
      { clusterName: 'c2', brokerNames: ['broker-z'] },
    ]);
    expect(info.brokers.map((b) => [b.clusterName, b.brokerName, b.replicas.map((r) => [r.brokerId, r.role])])).toEqual([
      ['c1', 'broker-a', [[0, 'MASTER'], [1, 'SLAVE']]],
      ['c2', 'broker-z', [[0, 'MASTER']]],
    ]);
    expect(info.brokers[0].replicas[0]).toEqual({ brokerId: 0, address: '10.0.0.1:8081', role: 'MASTER', lastHeartbeatMs: 5 });
  });

  it('lists every topic once, sorted', () => {
    expect(listTopics(t)).toEqual(['alpha', 'orders', 'zeta']);
    expect(clusterInfo(emptyRouteTable())).toEqual({ clusters: [], brokers: [] });
  });
});
