import { Counter, Gauge, type Registry } from 'prom-client';
import type { RouteRegistry } from './route-registry';

/**
 * The nameserver's own Prometheus metrics, all named here: prefix apogee_nameserver_, unit
 * suffixes, no labels. Runtime adds Node's default apogee_ metrics and apogee_nameserver_info.
 */
export function createNameserverMetrics(registry: Registry, routes: RouteRegistry) {
  return {
    liveBrokers: new Gauge({
      name: 'apogee_nameserver_live_brokers',
      help: 'Broker replicas (masters and slaves) registered and not evicted.',
      registers: [registry],
      collect() {
        this.set(routes.liveBrokerCount);
      },
    }),
    registrations: new Counter({
      name: 'apogee_nameserver_registrations_total',
      help: 'RegisterBroker calls accepted.',
      registers: [registry],
    }),
    evictions: new Counter({
      name: 'apogee_nameserver_evictions_total',
      help: 'Broker replicas dropped from routes for missing heartbeats.',
      registers: [registry],
    }),
  };
}

export type NameserverMetrics = ReturnType<typeof createNameserverMetrics>;
