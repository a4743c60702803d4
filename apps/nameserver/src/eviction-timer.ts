import type { Logger } from '@apogee/runtime';
import type { NameserverMetrics } from './metrics';
import type { RouteRegistry } from './route-registry';

export interface EvictionOptions {
  readonly routes: RouteRegistry;
  readonly metrics: NameserverMetrics;
  readonly logger: Logger;
  readonly windowMs: number;
  readonly checkIntervalMs: number;
}

/** Drops silent replicas now; logs one 'broker evicted' line per replica. Returns how many. */
export function evictSilentBrokers(options: EvictionOptions): number {
  const evicted = options.routes.evictStale(options.windowMs);
  for (const replica of evicted) {
    options.metrics.evictions.inc();
    options.logger.warn(
      {
        cluster: replica.clusterName,
        broker: replica.brokerName,
        brokerId: replica.brokerId,
        address: replica.address,
        lastHeartbeatMs: replica.lastHeartbeatMs,
        silentMs: replica.silentMs,
        windowMs: options.windowMs,
      },
      'broker evicted',
    );
  }
  return evicted.length;
}

/**
 * Looks for silent replicas every `checkIntervalMs`, so one is dropped between windowMs and
 * windowMs + checkIntervalMs after its last heartbeat. The timer never keeps the process alive.
 */
export function startEvictionTimer(options: EvictionOptions): { stop(): void } {
  const timer = setInterval(() => evictSilentBrokers(options), options.checkIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
