import { createTopicConfig, type BrokerRegistration } from '@apogee/routing';
import { RouteRegistry } from './route-registry';

function fakeClock(startMs = 1_000_000) {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms: number) => void (nowMs += ms) };
}

const orders = createTopicConfig({ name: 'orders', readQueueCount: 2, writeQueueCount: 2 });
const master: BrokerRegistration = { clusterName: 'c', brokerName: 'b', brokerId: 0, address: '127.0.0.1:8081', topics: [orders] };
const slave: BrokerRegistration = { ...master, brokerId: 1, address: '127.0.0.1:8082' };

describe('RouteRegistry', () => {
  it('tells new replicas from refreshed ones and counts live replicas', () => {
    const routes = new RouteRegistry(fakeClock());
    expect(routes.liveBrokerCount).toBe(0);
    expect(routes.register(master)).toEqual({ isNew: true });
    expect(routes.register(master)).toEqual({ isNew: false });
    expect(routes.register(slave)).toEqual({ isNew: true });
    expect(routes.register({ ...slave, address: '127.0.0.1:9000' })).toEqual({ isNew: true });
    expect(routes.liveBrokerCount).toBe(2);
    expect(routes.listTopics()).toEqual(['orders']);
  });

  it('evicts replicas silent for longer than the window, reporting how long they were silent', () => {
    const clock = fakeClock();
    const routes = new RouteRegistry(clock);
    routes.register(master);
    routes.register(slave);
    clock.advance(200);
    expect(routes.heartbeat({ brokerName: 'b', brokerId: 1, address: slave.address })).toBe(true);
    clock.advance(100);
    expect(routes.evictStale(300)).toEqual([]);
    clock.advance(1);
    expect(routes.evictStale(300)).toEqual([
      { clusterName: 'c', brokerName: 'b', brokerId: 0, address: master.address, lastHeartbeatMs: 1_000_000, silentMs: 301 },
    ]);
    expect(routes.liveBrokerCount).toBe(1);
    expect(routes.routeOf('orders')?.brokers).toEqual([{ brokerName: 'b', brokerId: 1, address: slave.address }]);
    expect(routes.heartbeat({ brokerName: 'b', brokerId: 0 })).toBe(false);
  });

  it('unregisters once', () => {
    const routes = new RouteRegistry(fakeClock());
    routes.register(master);
    expect(routes.unregister({ brokerName: 'b', brokerId: 0, address: '127.0.0.1:1' })).toBe(false);
    expect(routes.unregister({ brokerName: 'b', brokerId: 0 })).toBe(true);
    expect(routes.unregister({ brokerName: 'b', brokerId: 0 })).toBe(false);
    expect(routes.routeOf('orders')).toBeUndefined();
    expect(routes.clusterInfo()).toEqual({ clusters: [], brokers: [] });
  });
});
