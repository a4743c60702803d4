import { Gauge, type Registry } from 'prom-client';
import type { GroupStatus } from './controller/ha-groups';

/**
 * The ha-replicator's own Prometheus metrics (prefix apogee_ha_, one bounded label `broker`: a
 * broker group name, and `replica`: a replica id within it). Read at each scrape from the acting
 * view (`undefined` while not acting); a non-acting ha-replicator exports only apogee_ha_acting = 0.
 */
export function createHaMetrics(registry: Registry, view: () => readonly GroupStatus[] | undefined): void {
  const groups = (): readonly GroupStatus[] => view() ?? [];
  new Gauge({
    name: 'apogee_ha_acting',
    help: '1 while this ha-replicator is the elected one and decides failovers, else 0.',
    registers: [registry],
    collect() {
      this.set(view() === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: 'apogee_ha_group_epoch',
    help: "The broker group's epoch: raised by one at every failover.",
    labelNames: ['broker'],
    registers: [registry],
    collect() {
      this.reset();
      for (const g of groups()) this.set({ broker: g.brokerName }, g.epoch);
    },
  });
  new Gauge({
    name: 'apogee_ha_failovers',
    help: 'Failovers this ha-replicator performed per broker group since it started acting.',
    labelNames: ['broker'],
    registers: [registry],
    collect() {
      this.reset();
      for (const g of groups()) this.set({ broker: g.brokerName }, g.failovers);
    },
  });
  new Gauge({
    name: 'apogee_ha_replica_lag_bytes',
    help: "Bytes a replica's commit log is behind its master's, as last reported to the ha-replicator.",
    labelNames: ['broker', 'replica'],
    registers: [registry],
    collect() {
      this.reset();
      for (const g of groups()) for (const r of g.replicas) this.set({ broker: g.brokerName, replica: String(r.replicaId) }, r.lagBytes);
    },
  });
}
