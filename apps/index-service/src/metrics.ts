import { Gauge, type Registry } from 'prom-client';

/**
 * The index-service's own Prometheus metrics, all named here: prefix apogee_index_service_, unit suffixes
 * (_total, _seconds, _bytes), bounded labels only. Runtime adds Node's default apogee_ metrics.
 */
export function createIndexServiceMetrics(registry: Registry) {
  const info = new Gauge({
    name: 'apogee_index_service_info',
    help: '1 while this index-service process is up.',
    registers: [registry],
  });
  info.set(1);
  return { info };
}

export type IndexServiceMetrics = ReturnType<typeof createIndexServiceMetrics>;
