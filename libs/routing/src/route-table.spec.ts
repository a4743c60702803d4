import { Permission } from './permissions';
import {
  type BrokerRegistration,
  emptyRouteTable,
  evictStale,
  heartbeat,
  register,
  type RouteTable,
  unregister,
} from './route-table';
import { listTopics, routeOf } from './topic-route';
import { createTopicConfig, type TopicConfig } from './topics';
import { seededRandom } from '../test/seeded-random';

const orders = createTopicConfig({ name: 'orders', readQueueCount: 4, writeQueueCount: 4 });
const payments = createTopicConfig({ name: 'payments', readQueueCount: 2, writeQueueCount: 2 });

function registration(overrides: Partial<BrokerRegistration> = {}): BrokerRegistration {
  return { clusterName: 'c1', brokerName: 'broker-a', brokerId: 0, address: '10.0.0.1:8081', topics: [orders], ...overrides };
}

/** A structural snapshot, to prove operations leave their input alone. */
function snapshot(table: RouteTable): unknown {
  const groups = [...table.groups].map(([name, g]) => [name, g.clusterName, [...g.replicas]]);
  const topics = [...table.topics].map(([name, byId]) => [name, [...byId].map(([id, t]) => [id, [...t.keys()]])]);
  return JSON.parse(JSON.stringify({ groups, topics }));
}

describe('register', () => {
  it('adds a master with its topics', () => {
    const table = register(emptyRouteTable(), registration(), 1000);
    const group = table.groups.get('broker-a');
    expect(group?.clusterName).toBe('c1');
    expect(group?.replicas.get(0)).toEqual({ brokerId: 0, address: '10.0.0.1:8081', role: 'MASTER', lastHeartbeatMs: 1000 });
    expect(table.topics.get('broker-a')?.get(0)?.get('orders')).toEqual(orders);
  });

  it('does not change the table it is given', () => {
    const before = register(emptyRouteTable(), registration(), 1000);
    const frozen = snapshot(before);
    register(before, registration({ brokerId: 1, address: '10.0.0.2:8081' }), 2000);
    register(before, registration({ topics: [] }), 2000);
    expect(snapshot(before)).toEqual(frozen);
  });

  it('replaces the topics of a re-registering replica', () => {
    let table = register(emptyRouteTable(), registration({ topics: [orders, payments] }), 1000);
    table = register(table, registration({ topics: [payments] }), 2000);
    expect(listTopics(table)).toEqual(['payments']);
    expect(routeOf(table, 'orders')).toBeUndefined();
    expect(table.groups.get('broker-a')?.replicas.get(0)?.lastHeartbeatMs).toBe(2000);
  });

  it('applies the broker permission to every topic (wipe write permission)', () => {
    const table = register(emptyRouteTable(), registration({ brokerPermission: Permission.READ }), 1000);
    expect(table.topics.get('broker-a')?.get(0)?.get('orders')?.permission).toBe(Permission.READ);
  });

  it('lets a promoted slave take id 0 at its own address', () => {
    let table = register(emptyRouteTable(), registration({ topics: [orders] }), 1000);
    table = register(table, registration({ brokerId: 1, address: '10.0.0.2:8081', topics: [orders, payments] }), 1000);
    table = register(table, registration({ brokerId: 0, address: '10.0.0.2:8081', topics: [payments] }), 2000);
    const group = table.groups.get('broker-a');
    expect([...(group?.replicas.values() ?? [])]).toEqual([
      { brokerId: 0, address: '10.0.0.2:8081', role: 'MASTER', lastHeartbeatMs: 2000 },
    ]);
    expect([...(table.topics.get('broker-a')?.keys() ?? [])]).toEqual([0]);
    expect(listTopics(table)).toEqual(['payments']);
  });

  it('refuses a broker name registered under two clusters', () => {
    const table = register(emptyRouteTable(), registration(), 1000);
    expect(() => register(table, registration({ clusterName: 'c2', brokerId: 1, address: '10.0.0.2:8081' }), 1000)).toThrow(
      expect.objectContaining({ code: 'BROKER_CLUSTER_CONFLICT', message: expect.stringContaining('c1') }),
    );
  });

  it('lets the only replica move its group to another cluster', () => {
    let table = register(emptyRouteTable(), registration(), 1000);
    table = register(table, registration({ clusterName: 'c2' }), 2000);
    expect(table.groups.get('broker-a')?.clusterName).toBe('c2');
  });

  it('accepts reserved topics from brokers', () => {
    const retry = createTopicConfig({ name: '%RETRY%g', readQueueCount: 1, writeQueueCount: 1 }, { allowReserved: true });
    const table = register(emptyRouteTable(), registration({ topics: [retry] }), 0);
    expect(routeOf(table, '%RETRY%g')?.queues).toHaveLength(1);
  });

  it.each<[string, string, Partial<BrokerRegistration>]>([
    ['a bad cluster name', 'INVALID_CLUSTER_NAME', { clusterName: 'bad cluster' }],
    ['an empty broker name', 'INVALID_BROKER_NAME', { brokerName: '' }],
    ['a negative broker id', 'INVALID_BROKER_ID', { brokerId: -1 }],
    ['an address without port', 'INVALID_BROKER_ADDRESS', { address: 'nowhere' }],
    ['an unknown permission bit', 'INVALID_PERMISSION', { brokerPermission: 64 }],
    ['a topic listed twice', 'INVALID_TOPIC_CONFIG', { topics: [orders, orders] }],
    ['a topic without read queues', 'INVALID_QUEUE_COUNT', { topics: [{ ...orders, readQueueCount: 0 }] }],
    ['a bad topic name', 'INVALID_TOPIC_NAME', { topics: [{ ...orders, name: 'a b' } as TopicConfig] }],
  ])('rejects %s with %s', (_label, code, overrides) => {
    expect(() => register(emptyRouteTable(), registration(overrides), 0)).toThrow(expect.objectContaining({ code }));
  });

  it('rejects a bad clock value', () => {
    expect(() => register(emptyRouteTable(), registration(), NaN)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('heartbeat', () => {
  const table = register(emptyRouteTable(), registration(), 1000);

  it('refreshes a known replica and keeps its topics', () => {
    const result = heartbeat(table, { brokerName: 'broker-a', brokerId: 0 }, 5000);
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    expect(result.table.groups.get('broker-a')?.replicas.get(0)?.lastHeartbeatMs).toBe(5000);
    expect(listTopics(result.table)).toEqual(['orders']);
    expect(table.groups.get('broker-a')?.replicas.get(0)?.lastHeartbeatMs).toBe(1000);
  });

  it('asks unknown replicas to register', () => {
    expect(heartbeat(table, { brokerName: 'broker-x', brokerId: 0 }, 5000).kind).toBe('unknown-broker');
    expect(heartbeat(table, { brokerName: 'broker-a', brokerId: 3 }, 5000).kind).toBe('unknown-broker');
    expect(heartbeat(table, { brokerName: 'broker-a', brokerId: 0, address: '10.9.9.9:1' }, 5000).kind).toBe(
      'unknown-broker',
    );
    expect(heartbeat(table, { brokerName: 'broker-a', brokerId: 0, address: '10.0.0.1:8081' }, 5000).kind).toBe('ok');
  });
});

describe('unregister', () => {
  let table = register(emptyRouteTable(), registration(), 0);
  table = register(table, registration({ brokerId: 1, address: '10.0.0.2:8081' }), 0);

  it('removes one replica and its topics', () => {
    const after = unregister(table, { brokerName: 'broker-a', brokerId: 0 });
    expect([...(after.groups.get('broker-a')?.replicas.keys() ?? [])]).toEqual([1]);
    expect([...(after.topics.get('broker-a')?.keys() ?? [])]).toEqual([1]);
  });

  it('removes the group with its last replica', () => {
    let after = unregister(table, { brokerName: 'broker-a', brokerId: 0 });
    after = unregister(after, { brokerName: 'broker-a', brokerId: 1 });
    expect(after.groups.size).toBe(0);
    expect(after.topics.size).toBe(0);
  });

  it('returns the same table for unknown replicas or a stale address', () => {
    expect(unregister(table, { brokerName: 'broker-z', brokerId: 0 })).toBe(table);
    expect(unregister(table, { brokerName: 'broker-a', brokerId: 7 })).toBe(table);
    expect(unregister(table, { brokerName: 'broker-a', brokerId: 0, address: '10.0.0.9:8081' })).toBe(table);
  });
});

describe('evictStale', () => {
  let table = register(emptyRouteTable(), registration(), 1000);
  table = register(table, registration({ brokerId: 1, address: '10.0.0.2:8081' }), 3000);
  table = register(table, registration({ brokerName: 'broker-b', address: '10.0.0.3:8081', topics: [payments] }), 1000);

  it('keeps replicas heard from within the window (boundary included)', () => {
    const result = evictStale(table, 11000, 10000);
    expect(result.evicted).toEqual([]);
    expect(result.table).toBe(table);
  });

  it('evicts replicas silent for longer than the window and reports them', () => {
    const frozen = snapshot(table);
    const result = evictStale(table, 11001, 10000);
    expect(result.evicted).toEqual([
      { clusterName: 'c1', brokerName: 'broker-a', brokerId: 0, address: '10.0.0.1:8081', lastHeartbeatMs: 1000 },
      { clusterName: 'c1', brokerName: 'broker-b', brokerId: 0, address: '10.0.0.3:8081', lastHeartbeatMs: 1000 },
    ]);
    expect([...result.table.groups.keys()]).toEqual(['broker-a']);
    expect([...(result.table.groups.get('broker-a')?.replicas.keys() ?? [])]).toEqual([1]);
    expect(listTopics(result.table)).toEqual(['orders']);
    expect(snapshot(table)).toEqual(frozen);
  });

  it('rejects negative windows', () => {
    expect(() => evictStale(table, 0, -1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('route table invariants under random operations (seeded)', () => {
  const topicPool = ['t0', 't1', 't2', 't3'].map((name, i) =>
    createTopicConfig({ name, readQueueCount: 1 + i, writeQueueCount: 4 - i }),
  );

  function checkInvariants(table: RouteTable, label: string): void {
    expect({ label, keys: [...table.topics.keys()].sort() }).toEqual({ label, keys: [...table.groups.keys()].sort() });
    for (const [name, group] of table.groups) {
      expect(group.replicas.size).toBeGreaterThan(0);
      expect([...(table.topics.get(name)?.keys() ?? [])].sort()).toEqual([...group.replicas.keys()].sort());
      const addresses = [...group.replicas.values()].map((r) => r.address);
      expect(new Set(addresses).size).toBe(addresses.length);
      for (const [id, replica] of group.replicas) expect(replica.role).toBe(id === 0 ? 'MASTER' : 'SLAVE');
    }
    const listed = listTopics(table);
    for (const topic of topicPool.map((t) => t.name)) {
      const route = routeOf(table, topic);
      if (!listed.includes(topic)) expect(route).toBeUndefined();
      if (!route) continue;
      const brokerNames = route.brokers.map((b) => b.brokerName);
      expect(new Set(brokerNames).size).toBe(brokerNames.length);
      for (const queue of route.queues) expect(brokerNames).toContain(queue.brokerName);
    }
  }

  it.each([1, 2, 3, 4, 5])('seed %d', (seed) => {
    const random = seededRandom(seed);
    let table = emptyRouteTable();
    let nowMs = 0;
    for (let step = 0; step < 300; step++) {
      nowMs += random.int(0, 3000);
      const brokerName = random.pick(['a', 'b', 'c']);
      const brokerId = random.int(0, 2);
      const address = `10.0.${random.int(0, 5)}.1:8081`;
      const op = random.int(0, 9);
      if (op < 5) {
        const topics = topicPool.filter(() => random.bool());
        table = register(table, { clusterName: 'c', brokerName, brokerId, address, topics }, nowMs);
      } else if (op < 7) {
        const result = heartbeat(table, { brokerName, brokerId }, nowMs);
        if (result.kind === 'ok') table = result.table;
      } else if (op < 8) {
        table = unregister(table, { brokerName, brokerId });
      } else {
        table = evictStale(table, nowMs, 5000).table;
        for (const group of table.groups.values()) {
          for (const replica of group.replicas.values()) expect(nowMs - replica.lastHeartbeatMs).toBeLessThanOrEqual(5000);
        }
      }
      checkInvariants(table, `seed ${seed} step ${step}`);
    }
  });
});
