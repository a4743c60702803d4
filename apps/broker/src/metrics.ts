import { Gauge, type Registry } from 'prom-client';

/**
 * The broker's own Prometheus metrics, all named here: prefix apogee_broker_, unit suffixes
 * (_total, _seconds, _bytes), bounded labels only. Runtime adds Node's default apogee_ metrics.
 */
export function createBrokerMetrics(registry: Registry) {
  const info = new Gauge({
    name: 'apogee_broker_info',
    help: '1 while this broker process is up.',
    registers: [registry],
  });
  info.set(1);
  return { info };
}

export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;
