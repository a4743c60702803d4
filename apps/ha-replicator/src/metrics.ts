import { Gauge, type Registry } from 'prom-client';

/**
 * The ha-replicator's own Prometheus metrics, all named here: prefix apogee_ha_replicator_, unit suffixes
 * (_total, _seconds, _bytes), bounded labels only. Runtime adds Node's default apogee_ metrics.
 */
export function createHaReplicatorMetrics(registry: Registry) {
  const info = new Gauge({
    name: 'apogee_ha_replicator_info',
    help: '1 while this ha-replicator process is up.',
    registers: [registry],
  });
  info.set(1);
  return { info };
}

export type HaReplicatorMetrics = ReturnType<typeof createHaReplicatorMetrics>;
