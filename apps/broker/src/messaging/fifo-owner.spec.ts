import { createTopicConfig, queuesOf, selectQueueForMessageGroup, type TopicRoute } from '@apogee/routing';
import { FifoOwners, placementIn } from './fifo-owner';

const TOPIC = 'orders';

/** A route of TOPIC over the named brokers, `queues` read-write queues each. */
function routeOver(brokers: readonly string[], queues = 2): TopicRoute {
  const config = createTopicConfig({ name: TOPIC, messageType: 'FIFO', readQueueCount: queues, writeQueueCount: queues });
  return {
    topic: TOPIC,
    queues: brokers.flatMap((name) => queuesOf(config, name)),
    brokers: brokers.map((name, i) => ({ brokerName: name, brokerId: 0, address: `127.0.0.1:${10_000 + i}` })),
  };
}

const GROUPS = Array.from({ length: 64 }, (_, i) => `group-${i}`);

describe('placementIn', () => {
  const route = routeOver(['broker-a', 'broker-b']);

  it('names the owner queue over the whole route: ours as local, another broker as remote with its address', () => {
    const kinds = new Set<string>();
    for (const group of GROUPS) {
      const owner = selectQueueForMessageGroup(route.queues, group);
      if (owner.kind !== 'selected') throw new Error('no owner');
      const seenFromA = placementIn(route, 'broker-a', group);
      const seenFromB = placementIn(route, 'broker-b', group);
      kinds.add(seenFromA.kind);
      if (owner.queue.brokerName === 'broker-a') {
        expect(seenFromA).toEqual({ kind: 'local', queueId: owner.queue.queueId });
        expect(seenFromB).toEqual({ kind: 'remote', brokerName: 'broker-a', address: '127.0.0.1:10000', queueId: owner.queue.queueId });
      } else {
        expect(seenFromA).toEqual({ kind: 'remote', brokerName: 'broker-b', address: '127.0.0.1:10001', queueId: owner.queue.queueId });
        expect(seenFromB).toEqual({ kind: 'local', queueId: owner.queue.queueId });
      }
    }
    expect(kinds).toEqual(new Set(['local', 'remote'])); // 64 groups spread over both brokers
  });

  it('leaves the choice to the local pick without a route, when the topic is only here, or when nothing is writable', () => {
    expect(placementIn(undefined, 'broker-a', 'g')).toEqual({ kind: 'local-pick' });
    expect(placementIn(routeOver(['broker-a']), 'broker-a', 'g')).toEqual({ kind: 'local-pick' });
    const readOnly = { ...route, queues: route.queues.map((q) => ({ ...q, permission: 4 /* READ */ })) };
    expect(placementIn(readOnly as TopicRoute, 'broker-a', 'g')).toEqual({ kind: 'local-pick' });
  });

  it('forwards when the topic lives only on another broker', () => {
    expect(placementIn(routeOver(['broker-b']), 'broker-a', 'g')).toMatchObject({ kind: 'remote', brokerName: 'broker-b' });
  });
});

describe('FifoOwners', () => {
  const setup = (options: { freshMs?: number; maxStaleMs?: number; maxTopics?: number } = {}) => {
    const clock = { nowMs: 1_000_000, now: () => clock.nowMs };
    let route: TopicRoute | undefined = routeOver(['broker-a', 'broker-b']);
    const queries: string[] = [];
    const routes = {
      fromNameservers: async (topic: string): Promise<TopicRoute | undefined> => {
        queries.push(topic);
        return route === undefined ? undefined : { ...route, topic };
      },
    };
    const owners = new FifoOwners({ routes, brokerName: 'broker-a', clock, freshMs: 3_000, maxStaleMs: 30_000, ...options });
    return {
      clock,
      owners,
      queries,
      setRoute: (next: TopicRoute | undefined) => (route = next),
    };
  };

  it('asks the nameservers once per topic while the entry is fresh, and once for concurrent misses', async () => {
    const { owners, queries } = setup();
    await Promise.all(GROUPS.map((group) => owners.placementOf(TOPIC, group)));
    await owners.placementOf(TOPIC, 'g');
    expect(queries).toEqual([TOPIC]);
  });

  it('answers from an expired entry while it refreshes in the background, then from the new route', async () => {
    const { owners, queries, clock, setRoute } = setup();
    expect((await owners.routeOf(TOPIC))?.brokers).toHaveLength(2);
    setRoute(routeOver(['broker-a']));
    clock.nowMs += 3_001;
    expect((await owners.routeOf(TOPIC))?.brokers).toHaveLength(2); // stale answer, refresh started
    expect(queries).toHaveLength(2);
    await new Promise(setImmediate); // the background refresh settles
    expect((await owners.routeOf(TOPIC))?.brokers).toHaveLength(1);
    expect(queries).toHaveLength(2);
  });

  it('refetches before answering when the entry is older than maxStaleMs', async () => {
    const { owners, queries, clock, setRoute } = setup();
    await owners.routeOf(TOPIC);
    setRoute(undefined);
    clock.nowMs += 30_001;
    expect(await owners.routeOf(TOPIC)).toBeUndefined();
    expect(queries).toHaveLength(2);
  });

  it('caches "no route" too, so an unknown topic costs one query per freshMs', async () => {
    const { owners, queries, setRoute } = setup();
    setRoute(undefined);
    for (let i = 0; i < 5; i++) expect(await owners.placementOf(TOPIC, 'g')).toEqual({ kind: 'local-pick' });
    expect(queries).toHaveLength(1);
  });

  it('keeps at most maxTopics topics, dropping the least recently used', async () => {
    const { owners, queries } = setup({ maxTopics: 2 });
    await owners.routeOf('t1');
    await owners.routeOf('t2');
    await owners.routeOf('t1'); // t2 is now the least recently used
    await owners.routeOf('t3');
    expect(owners.size).toBe(2);
    await owners.routeOf('t1');
    await owners.routeOf('t2');
    expect(queries).toEqual(['t1', 't2', 't3', 't2']);
  });

  it('never throws when the route source fails: the local pick decides', async () => {
    const owners = new FifoOwners({
      routes: { fromNameservers: () => Promise.reject(new Error('down')) },
      brokerName: 'broker-a',
      clock: { now: () => 0 },
    });
    expect(await owners.placementOf(TOPIC, 'g')).toEqual({ kind: 'local-pick' });
  });
});
