import { Counter, Gauge, type Registry } from 'prom-client';
import type { MessageStore } from '@apogee/storage';
import type { BrokerMetadata } from './metadata/open-metadata';

/**
 * The broker's own Prometheus metrics, all named here: prefix apogee_broker_, unit suffixes
 * (_total, _seconds, _bytes), bounded labels only (`nameserver` is one of the configured
 * addresses). Runtime adds Node's default apogee_ metrics and apogee_broker_info.
 */
export function createBrokerMetrics(
  registry: Registry,
  store: MessageStore,
  metadata: Pick<BrokerMetadata, 'topics' | 'groups'>,
) {
  /** A gauge read at each scrape. */
  const readGauge = (name: string, help: string, read: () => number): Gauge =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  return {
    logMin: readGauge(
      'apogee_broker_commit_log_min_offset_bytes',
      'PhysicalOffset of the oldest byte still in the commit log.',
      () => store.minPhysicalOffset,
    ),
    logMax: readGauge(
      'apogee_broker_commit_log_max_offset_bytes',
      'PhysicalOffset of the end of the written commit log.',
      () => store.maxPhysicalOffset,
    ),
    logUnsynced: readGauge(
      'apogee_broker_commit_log_unsynced_bytes',
      'Written commit-log bytes not yet fdatasync-ed.',
      () => store.maxPhysicalOffset - store.syncedPhysicalOffset,
    ),
    topics: readGauge('apogee_broker_topics', 'Topics configured on this broker.', () => metadata.topics.size),
    groups: readGauge(
      'apogee_broker_consumer_groups',
      'Consumer (subscription) groups configured on this broker.',
      () => metadata.groups.size,
    ),
    ...createRegistrationMetrics(registry),
  };
}

/** How the broker stands with each configured nameserver (the registrar updates them). */
export function createRegistrationMetrics(registry: Registry) {
  return {
    nameserverRegistered: new Gauge({
      name: 'apogee_broker_nameserver_registered',
      help: '1 while the nameserver holds this broker registration (last register or heartbeat succeeded), else 0.',
      labelNames: ['nameserver'] as const,
      registers: [registry],
    }),
    registrations: new Counter({
      name: 'apogee_broker_registrations_total',
      help: 'RegisterBroker calls a nameserver accepted (start, topic changes, re-registration after a nameserver restart).',
      labelNames: ['nameserver'] as const,
      registers: [registry],
    }),
  };
}

export type RegistrationMetrics = ReturnType<typeof createRegistrationMetrics>;

/** Where the replication metrics read from: the master's replica set, or the slave's follower. */
export interface ReplicationMetricsSource {
  readonly lags?: () => readonly { replica: string; bytes: number; seconds: number }[];
  /** Master: how many replicas are in sync now, and the SYNC waits that got no confirmation (replica-set.ts). */
  readonly inSyncReplicas?: () => number;
  readonly syncWaits?: () => { readonly timeout: number; readonly noInSyncReplica: number; readonly degraded: number };
  readonly masterLagBytes?: () => number;
}

/**
 * Replication lag (replication/). Named apogee_replication_ as the HA issue asks: the same names
 * will be read from the ha-replicator. `replica` is a broker id of the group (bounded).
 */
export function createReplicationMetrics(registry: Registry, source: ReplicationMetricsSource) {
  const lags = source.lags;
  const perReplica = (name: string, help: string, pick: (lag: { bytes: number; seconds: number }) => number): Gauge | undefined =>
    lags === undefined
      ? undefined
      : new Gauge({
          name,
          help,
          labelNames: ['replica'] as const,
          registers: [registry],
          collect() {
            this.reset(); // a disconnected replica's series goes away
            for (const lag of lags()) this.set({ replica: lag.replica }, pick(lag));
          },
        });
  const masterLag = source.masterLagBytes;
  const inSync = source.inSyncReplicas;
  const syncWaits = source.syncWaits;
  return {
    inSyncReplicas:
      inSync === undefined
        ? undefined
        : new Gauge({
            name: 'apogee_replication_in_sync_replicas',
            help: "Master: connected replicas within inSyncMaxLagBytes of the master's end (those SYNC replication waits on).",
            registers: [registry],
            collect() {
              this.set(inSync());
            },
          }),
    syncWaitFailures:
      syncWaits === undefined
        ? undefined
        : new Counter({
            name: 'apogee_replication_sync_wait_failures_total',
            help:
              'Master, SYNC replication: sends not confirmed by a slave. reason: timeout (no confirmation within syncReplicaTimeoutMs), ' +
              'no_in_sync_replica (refused at once), degraded (acknowledged as ASYNC, syncDegradeToAsync).',
            labelNames: ['reason'] as const,
            registers: [registry],
            collect() {
              const counts = syncWaits();
              this.reset();
              this.inc({ reason: 'timeout' }, counts.timeout);
              this.inc({ reason: 'no_in_sync_replica' }, counts.noInSyncReplica);
              this.inc({ reason: 'degraded' }, counts.degraded);
            },
          }),
    lagBytes: perReplica(
      'apogee_replication_lag_bytes',
      "Master: commit-log bytes a connected replica is behind (the master's end minus the replica's last reported end).",
      (lag) => lag.bytes,
    ),
    lagSeconds: perReplica(
      'apogee_replication_lag_seconds',
      'Master: seconds since a connected replica was last caught up (0 while it is).',
      (lag) => lag.seconds,
    ),
    masterLagBytes:
      masterLag === undefined
        ? undefined
        : new Gauge({
            name: 'apogee_replication_master_lag_bytes',
            help: "Slave: commit-log bytes behind the master, as of the master's last chunk.",
            registers: [registry],
            collect() {
              this.set(masterLag());
            },
          }),
  };
}

export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;
