import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'apogee_';

/**
 * A fresh registry for one service instance, with Node's default metrics prefixed apogee_ and
 * `apogee_<app>_info` (1 while the process is up) when an app name is given.
 * Never the global registry: tests start many services in one process, and prom-client throws
 * on a second registration of the same name in one registry.
 */
export function createMetricsRegistry(app?: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  if (app) {
    const name = app.replace(/-/g, '_');
    new Gauge({ name: `${METRIC_PREFIX}${name}_info`, help: `1 while this ${app} process is up.`, registers: [registry] }).set(1);
  }
  return registry;
}
