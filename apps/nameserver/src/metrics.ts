import { Gauge, type Registry } from 'prom-client';

/**
 * The nameserver's own Prometheus metrics, all named here: prefix apogee_nameserver_, unit suffixes
 * (_total, _seconds, _bytes), bounded labels only. Runtime adds Node's default apogee_ metrics.
 */
export function createNameserverMetrics(registry: Registry) {
  const info = new Gauge({
    name: 'apogee_nameserver_info',
    help: '1 while this nameserver process is up.',
    registers: [registry],
  });
  info.set(1);
  return { info };
}

export type NameserverMetrics = ReturnType<typeof createNameserverMetrics>;
