import { Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'apogee_';

/**
 * A fresh registry for one service instance, with Node's default metrics prefixed apogee_.
 * Never the global registry: tests start many services in one process, and prom-client throws
 * on a second registration of the same name in one registry.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
