import { ClientRegistry } from './client-registry';
import type { WireTelemetryCommand } from './v2-wire';

// Which Telemetry stream a broker command (a transaction check) goes to.
describe('ClientRegistry.sendToProducerOf', () => {
  const clock = { now: () => 0 };
  const producerOf = (registry: ClientRegistry, clientId: string, topics: string[]) =>
    registry.recordSettings(clientId, { client_type: 'PRODUCER', publishing: { topics: topics.map((name) => ({ name })) } });

  it('sends only to producers that declared the topic and have an open stream, taking them in turn', () => {
    const registry = new ClientRegistry(clock);
    const got: string[] = [];
    const sender = (id: string, writable = true) => (command: WireTelemetryCommand) => {
      if (writable) got.push(`${id}:${String(command.marker)}`);
      return writable;
    };
    producerOf(registry, 'p1', ['orders']);
    producerOf(registry, 'p2', ['orders', 'other']);
    producerOf(registry, 'p3', ['other']);
    registry.recordSettings('c1', { client_type: 'SIMPLE_CONSUMER' });
    registry.attachTelemetry('p1', sender('p1'));
    registry.attachTelemetry('p2', sender('p2'));
    registry.attachTelemetry('p3', sender('p3'));
    registry.attachTelemetry('c1', sender('c1'));

    expect(registry.sendToProducerOf('orders', { marker: 1 })).toBe(true);
    expect(registry.sendToProducerOf('orders', { marker: 2 })).toBe(true);
    expect(got).toHaveLength(2);
    expect(new Set(got.map((g) => g.split(':')[0]))).toEqual(new Set(['p1', 'p2'])); // one each, never p3 or c1
    expect(registry.sendToProducerOf('nobody', { marker: 3 })).toBe(false);
  });

  it('skips closed streams, and forgets streams on detach and on termination', () => {
    const registry = new ClientRegistry(clock);
    producerOf(registry, 'p1', ['orders']);
    producerOf(registry, 'p2', ['orders']);
    const detach = registry.attachTelemetry('p1', () => true);
    registry.attachTelemetry('p2', () => false); // stream no longer writable
    detach();
    expect(registry.sendToProducerOf('orders', {})).toBe(false);
    registry.attachTelemetry('p1', () => true);
    expect(registry.sendToProducerOf('orders', {})).toBe(true);
    registry.remove('p1');
    expect(registry.sendToProducerOf('orders', {})).toBe(false);
  });

  it('keeps the newer stream when an older one of the same client closes late', () => {
    const registry = new ClientRegistry(clock);
    producerOf(registry, 'p1', ['orders']);
    const detachOld = registry.attachTelemetry('p1', () => false);
    registry.attachTelemetry('p1', () => true);
    detachOld();
    expect(registry.sendToProducerOf('orders', {})).toBe(true);
  });
});

describe('ClientRegistry.evictSilent', () => {
  it('forgets the clients not heard from for the given time, and only them', () => {
    const clock = { nowMs: 1_000_000, now: () => clock.nowMs };
    const registry = new ClientRegistry(clock);
    registry.touch('old', 'PUSH_CONSUMER');
    clock.nowMs += 100_000;
    registry.touch('fresh', 'PRODUCER');
    clock.nowMs += 30_000;
    expect(registry.evictSilent(120_000)).toEqual(['old']);
    expect(registry.get('old')).toBeUndefined();
    expect(registry.get('fresh')).toBeDefined();
  });
});
