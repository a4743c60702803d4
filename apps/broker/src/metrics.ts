import { readdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import { lagSeconds } from './admin/group-progress';
import { groupOfStateKey } from './consumer/broadcast-state';
import type { PopConsumption } from './consumer/pop-consumption';
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

/** Where the replication metrics read from: the replica set (as master) and the follower (as slave). */
export interface ReplicationMetricsSource {
  readonly lags: () => readonly { replica: string; bytes: number; seconds: number }[];
  /** Master: how many replicas are in sync now, and the SYNC waits that got no confirmation (replica-set.ts). */
  readonly inSyncReplicas: () => number;
  readonly syncWaits: () => { readonly timeout: number; readonly noInSyncReplica: number; readonly degraded: number };
  readonly masterLagBytes: () => number;
}

/**
 * Replication lag (replication/). Named apogee_replication_ as the HA issue asks: the same names
 * will be read from the ha-replicator. `replica` is a broker id of the group (bounded).
 */
export function createReplicationMetrics(registry: Registry, source: ReplicationMetricsSource) {
  const perReplica = (name: string, help: string, pick: (lag: { bytes: number; seconds: number }) => number): Gauge =>
    new Gauge({
      name,
      help,
      labelNames: ['replica'] as const,
      registers: [registry],
      collect() {
        this.reset(); // a disconnected replica's series goes away
        for (const lag of source.lags()) this.set({ replica: lag.replica }, pick(lag));
      },
    });
  return {
    inSyncReplicas: new Gauge({
      name: 'apogee_replication_in_sync_replicas',
      help: "Master: connected replicas within inSyncMaxLagBytes of the master's end (those SYNC replication waits on).",
      registers: [registry],
      collect() {
        this.set(source.inSyncReplicas());
      },
    }),
    syncWaitFailures: new Counter({
      name: 'apogee_replication_sync_wait_failures_total',
      help:
        'Master, SYNC replication: sends not confirmed by a slave. reason: timeout (no confirmation within syncReplicaTimeoutMs), ' +
        'no_in_sync_replica (refused at once), degraded (acknowledged as ASYNC, syncDegradeToAsync).',
      labelNames: ['reason'] as const,
      registers: [registry],
      collect() {
        const counts = source.syncWaits();
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
    masterLagBytes: new Gauge({
      name: 'apogee_replication_master_lag_bytes',
      help: "Slave: commit-log bytes behind the master, as of the master's last chunk.",
      registers: [registry],
      collect() {
        this.set(source.masterLagBytes());
      },
    }),
    truncatedBytes: new Counter({
      name: 'apogee_replication_truncated_bytes_total',
      help: 'Commit-log bytes this broker cut because its new master never had them (an old master rejoining as a slave).',
      registers: [registry],
    }),
  };
}

export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;

/** Latency buckets (seconds) of a send: a store append, plus an fdatasync and a slave's confirmation under SYNC. */
const SEND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Latency buckets (seconds) of a receive: long polls wait up to their timeout (30 s by default). */
const RECEIVE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Latency buckets (seconds) of a commit-log flush: ASYNC waits up to flushIntervalMs (500 ms) by design. */
const FLUSH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Traffic through the messaging RPCs (traffic-metrics.ts increments them: one counter increment
 * per message, one observation per call). `topic` is a topic configured on this broker (a
 * request naming an unknown topic is counted under `topic="_unknown"`), so the label is bounded
 * by the operator's topics; never a message id or client id.
 */
export function createTrafficMetrics(registry: Registry) {
  const byTopic = ['topic'] as const;
  return {
    messagesIn: new Counter({
      name: 'apogee_broker_messages_in_total',
      help: 'Messages stored by SendMessage (OK entries), per topic; a transaction half counts under its topic.',
      labelNames: byTopic,
      registers: [registry],
    }),
    bytesIn: new Counter({
      name: 'apogee_broker_bytes_in_total',
      help: 'Body bytes of the messages stored by SendMessage, per topic.',
      labelNames: byTopic,
      registers: [registry],
    }),
    messagesOut: new Counter({
      name: 'apogee_broker_messages_out_total',
      help: 'Messages delivered to consumers (ReceiveMessage and PullMessage), per topic; redeliveries count again.',
      labelNames: byTopic,
      registers: [registry],
    }),
    bytesOut: new Counter({
      name: 'apogee_broker_bytes_out_total',
      help: 'Bytes of the message frames delivered to consumers (body plus properties), per topic.',
      labelNames: byTopic,
      registers: [registry],
    }),
    acks: new Counter({
      name: 'apogee_broker_acks_total',
      help: 'Messages acknowledged by consumers (AckMessage OK entries), per topic.',
      labelNames: byTopic,
      registers: [registry],
    }),
    sendLatency: new Histogram({
      name: 'apogee_broker_send_latency_seconds',
      help: 'SendMessage calls: from the request to the answer (durable under the flush mode; SYNC replication waits for a slave).',
      labelNames: byTopic,
      buckets: SEND_BUCKETS,
      registers: [registry],
    }),
    receiveLatency: new Histogram({
      name: 'apogee_broker_receive_latency_seconds',
      help: 'ReceiveMessage and PullMessage calls that delivered messages: from the request to its first message (long-poll wait included).',
      labelNames: byTopic,
      buckets: RECEIVE_BUCKETS,
      registers: [registry],
    }),
  };
}

export type TrafficMetrics = ReturnType<typeof createTrafficMetrics>;

/** Where the broker's state gauges read from at each scrape (start-broker.ts passes its components). */
export interface BrokerStateSource {
  readonly store: Pick<MessageStore, 'queueRange' | 'entries' | 'read'>;
  /** <dataDir>/store: its files are the store size; its file system the disk use. */
  readonly storeDir: string;
  /** Timers filed and not yet fired (TimerStore.pendingEntries). */
  readonly pendingTimers: () => Promise<number>;
  readonly pendingTransactions: () => number;
  readonly consumption: Pick<PopConsumption, 'offsets' | 'inflight'>;
  readonly groups: () => readonly string[];
  /** Consumer lag and in-flight are reported by the master only (a slave holds copies of its positions). */
  readonly isMaster: () => boolean;
  readonly clock: Clock;
}

/** Gauges that share a computation (lag, in-flight, the file system) recompute it at most this often. */
const SCRAPE_MEMO_MS = 500;

/**
 * The broker's state, read at scrape time from its components: consumer lag and in-flight
 * messages per group (label `group`: a consumer group configured on this broker; a broadcast
 * group's per-client positions are summed into their group), pending timers and transactions,
 * store size and disk use, the role; and the flush latency (every fdatasync round, fed by
 * startFlushProbe in traffic-metrics.ts). Consumer lag reads, per lagging queue, one consume-queue entry and one
 * message (the store time of the oldest unacknowledged one), as GroupProgress does.
 */
export function createBrokerStateMetrics(registry: Registry, source: BrokerStateSource) {
  const byGroup = ['group'] as const;
  /** One computation per scrape, however many gauges read it. */
  const perScrape = <T>(compute: () => T): (() => T) => {
    let memo: { at: number; value: T } | undefined;
    return () => {
      const now = source.clock.now();
      if (memo === undefined || now - memo.at >= SCRAPE_MEMO_MS) memo = { at: now, value: compute() };
      return memo.value;
    };
  };
  const lag = perScrape((): { messages: Map<string, number>; seconds: Map<string, number> } => {
    const now = source.clock.now();
    const messages = new Map<string, number>();
    const seconds = new Map<string, number>();
    if (source.isMaster()) {
      for (const group of source.groups()) {
        messages.set(group, 0);
        seconds.set(group, 0);
      }
      for (const [ref, position] of source.consumption.offsets.entries()) {
        const group = groupOfStateKey(ref.group);
        const { min, max } = source.store.queueRange(ref.topic, ref.queueId);
        const oldest = Math.max(position.committedOffset, min);
        const behind = Math.max(0, max - oldest);
        messages.set(group, (messages.get(group) ?? 0) + behind);
        if (behind > 0) seconds.set(group, Math.max(seconds.get(group) ?? 0, lagSeconds(source.store, ref, oldest, now)));
      }
    }
    return { messages, seconds };
  });
  const inflight = perScrape((): { inflight: Map<string, number>; retrying: Map<string, number> } => {
    const counts = { inflight: new Map<string, number>(), retrying: new Map<string, number>() };
    if (!source.isMaster()) return counts;
    for (const group of source.groups()) {
      counts.inflight.set(group, 0);
      counts.retrying.set(group, 0);
    }
    const { inflight: store } = source.consumption;
    for (const ref of store.queues()) {
      const group = groupOfStateKey(ref.group);
      let retrying = 0;
      for (const message of store.values(ref)) if (message.deliveryAttempt > 1) retrying++;
      counts.inflight.set(group, (counts.inflight.get(group) ?? 0) + store.count(ref));
      counts.retrying.set(group, (counts.retrying.get(group) ?? 0) + retrying);
    }
    return counts;
  });
  const fileSystem = perScrape(() => statfs(source.storeDir));
  const perGroup = (name: string, help: string, read: () => Map<string, number>): Gauge =>
    new Gauge({
      name,
      help,
      labelNames: byGroup,
      registers: [registry],
      collect() {
        this.reset();
        for (const [group, value] of read()) this.set({ group }, value);
      },
    });
  const readGauge = (name: string, help: string, read: () => number | Promise<number>): Gauge =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(await read());
      },
    });
  const flushLatency = new Histogram({
    name: 'apogee_broker_flush_latency_seconds',
    help: 'Commit-log flush: duration of each fdatasync round of the commit log (one round covers every byte written before it started).',
    buckets: FLUSH_BUCKETS,
    registers: [registry],
  });
  return {
    lagMessages: perGroup(
      'apogee_broker_consumer_lag_messages',
      "Master: messages stored and not yet acknowledged by the group, summed over the queues it consumes on this broker.",
      () => lag().messages,
    ),
    lagSeconds: perGroup(
      'apogee_broker_consumer_lag_seconds',
      'Master: age of the oldest message the group has not acknowledged, over its queues on this broker (0 when caught up).',
      () => lag().seconds,
    ),
    inflight: perGroup(
      'apogee_broker_inflight_messages',
      'Master: messages received by the group and not yet acknowledged (invisible or awaiting redelivery).',
      () => inflight().inflight,
    ),
    retrying: perGroup(
      'apogee_broker_retrying_messages',
      'Master: in-flight messages of the group delivered more than once (delivery attempt > 1).',
      () => inflight().retrying,
    ),
    timersPending: readGauge(
      'apogee_broker_timers_pending',
      'Delayed messages filed in the timer and not yet fired (approximate: counts the entries of the timer buckets not yet fired, recalls included).',
      () => source.pendingTimers(),
    ),
    transactionsPending: readGauge(
      'apogee_broker_transactions_pending',
      'Transaction halves stored and neither committed nor rolled back yet.',
      source.pendingTransactions,
    ),
    storeSize: readGauge(
      'apogee_broker_store_size_bytes',
      "Bytes of the message store's files on disk (commit-log segments and consume queues).",
      () => directoryBytes(source.storeDir),
    ),
    diskUsed: readGauge(
      'apogee_broker_disk_used_ratio',
      "Used share (0–1) of the file system holding the store, as retention's watermarks see it.",
      async () => {
        const s = await fileSystem();
        return s.blocks === 0 ? 0 : 1 - s.bavail / s.blocks;
      },
    ),
    diskTotal: readGauge('apogee_broker_disk_total_bytes', 'Size of the file system holding the store.', async () => {
      const s = await fileSystem();
      return s.blocks * s.bsize;
    }),
    master: readGauge('apogee_broker_master', '1 while this broker is the master of its group (takes writes), else 0.', () =>
      source.isMaster() ? 1 : 0,
    ),
    flushLatency,
  };
}

export type BrokerStateMetrics = ReturnType<typeof createBrokerStateMetrics>;

/** Total size of the files under `dir` (a missing entry, e.g. a segment deleted meanwhile, counts 0). */
async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(full);
    else if (entry.isFile()) total += await stat(full).then((s) => s.size, () => 0);
  }
  return total;
}
