/**
 * The nameserver's registry as a value: broker groups, and for every replica the topics it
 * serves. Brokers register with every nameserver and heartbeat; a replica silent for longer
 * than the eviction window is dropped, and a group without replicas disappears with its
 * topics. The nameserver keeps the current table in memory and swaps it for the table each
 * operation returns; operations never change their input, and return the very same table
 * when nothing changed.
 *
 * Time is passed in (`nowMs`), never read here. A replica is stale when
 * `nowMs - lastHeartbeatMs > windowMs`, as RocketMQ's `RouteInfoManager.scanNotActiveBroker`.
 */
import { parseBrokerAddress } from './address';
import {
  type BrokerGroup,
  type BrokerReplica,
  roleOf,
  validateBrokerId,
  withReplica,
  withoutReplica,
} from './brokers';
import { validateBrokerName, validateClusterName } from './names';
import { Permission, restrictPermission, validatePermission } from './permissions';
import { RoutingError } from './routing-error';
import { type TopicConfig, validateTopicConfig } from './topics';

export interface BrokerRegistration {
  readonly clusterName: string;
  readonly brokerName: string;
  readonly brokerId: number;
  /** `host:port` of the broker's gRPC endpoint. */
  readonly address: string;
  /** Every topic the replica serves; replaces what it registered before. */
  readonly topics: readonly TopicConfig[];
  /** Broker-wide ceiling on every topic's READ/WRITE (RocketMQ `brokerPermission`); default READ_WRITE. */
  readonly brokerPermission?: Permission;
}

/** Names one replica; with `address`, only the replica at that address matches. */
export interface ReplicaRef {
  readonly brokerName: string;
  readonly brokerId: number;
  readonly address?: string;
}

/** brokerId → topic name → config (with the broker permission already applied). */
export type ReplicaTopics = ReadonlyMap<number, ReadonlyMap<string, TopicConfig>>;

export interface RouteTable {
  /** By broker name. */
  readonly groups: ReadonlyMap<string, BrokerGroup>;
  /** By broker name; has an entry for every replica of `groups`. */
  readonly topics: ReadonlyMap<string, ReplicaTopics>;
}

export interface EvictedReplica {
  readonly clusterName: string;
  readonly brokerName: string;
  readonly brokerId: number;
  readonly address: string;
  readonly lastHeartbeatMs: number;
}

export type HeartbeatResult = { readonly kind: 'ok'; readonly table: RouteTable } | { readonly kind: 'unknown-broker' };

export function emptyRouteTable(): RouteTable {
  return { groups: new Map(), topics: new Map() };
}

/**
 * Adds or refreshes one replica and replaces its topics. A registration under id 0 makes the
 * replica the master; another replica already at the same address is dropped (a promoted
 * slave re-registers as 0). A broker name belongs to one cluster: registering it under
 * another cluster while other replicas of the group are alive is refused.
 */
export function register(table: RouteTable, registration: BrokerRegistration, nowMs: number): RouteTable {
  validateTime('nowMs', nowMs);
  const topics = validateRegistration(registration);
  const { brokerName, brokerId, address, clusterName } = registration;
  const existing = table.groups.get(brokerName);
  const base = existing ? groupFor(existing, registration) : { clusterName, brokerName, replicas: new Map() };
  const replica: BrokerReplica = { brokerId, address, role: roleOf(brokerId), lastHeartbeatMs: nowMs };
  const group = withReplica(base, replica);
  const replicaTopics = new Map<number, ReadonlyMap<string, TopicConfig>>();
  for (const [id, configs] of table.topics.get(brokerName) ?? []) {
    if (group.replicas.has(id)) replicaTopics.set(id, configs);
  }
  replicaTopics.set(brokerId, topics);
  return withGroup(table, group, replicaTopics);
}

/** Refreshes a replica's heartbeat time; an unknown replica must register again. */
export function heartbeat(table: RouteTable, ref: ReplicaRef, nowMs: number): HeartbeatResult {
  validateTime('nowMs', nowMs);
  const group = table.groups.get(ref.brokerName);
  const replica = group && findReplica(group, ref);
  if (!group || !replica) return { kind: 'unknown-broker' };
  const refreshed = withReplica(group, { ...replica, lastHeartbeatMs: nowMs });
  return { kind: 'ok', table: withGroup(table, refreshed, table.topics.get(ref.brokerName) ?? new Map()) };
}

/** Removes one replica (a broker shutting down cleanly). Unknown replicas are ignored. */
export function unregister(table: RouteTable, ref: ReplicaRef): RouteTable {
  const group = table.groups.get(ref.brokerName);
  if (!group || !findReplica(group, ref)) return table;
  return withoutReplicas(table, group, [ref.brokerId]);
}

/** Drops every replica whose last heartbeat is more than `windowMs` before `nowMs`. */
export function evictStale(
  table: RouteTable,
  nowMs: number,
  windowMs: number,
): { table: RouteTable; evicted: EvictedReplica[] } {
  validateTime('nowMs', nowMs);
  validateTime('windowMs', windowMs);
  const evicted: EvictedReplica[] = [];
  let result = table;
  for (const group of table.groups.values()) {
    const stale = [...group.replicas.values()].filter((replica) => nowMs - replica.lastHeartbeatMs > windowMs);
    if (stale.length === 0) continue;
    for (const { brokerId, address, lastHeartbeatMs } of stale) {
      evicted.push({ clusterName: group.clusterName, brokerName: group.brokerName, brokerId, address, lastHeartbeatMs });
    }
    result = withoutReplicas(result, group, stale.map((replica) => replica.brokerId));
  }
  return { table: result, evicted };
}

/** Checks a registration; returns its topics by name with the broker permission applied. */
function validateRegistration(registration: BrokerRegistration): ReadonlyMap<string, TopicConfig> {
  validateClusterName(registration.clusterName);
  validateBrokerName(registration.brokerName);
  validateBrokerId(registration.brokerId);
  parseBrokerAddress(registration.address);
  const ceiling = registration.brokerPermission ?? Permission.READ_WRITE;
  validatePermission(ceiling);
  const topics = new Map<string, TopicConfig>();
  for (const config of registration.topics) {
    validateTopicConfig(config, { allowReserved: true });
    if (topics.has(config.name)) {
      throw new RoutingError(
        'INVALID_TOPIC_CONFIG',
        `Broker ${registration.brokerName}/${registration.brokerId} registered topic ` +
          `${JSON.stringify(config.name)} twice; each topic may appear once per registration`,
      );
    }
    topics.set(config.name, Object.freeze({ ...config, permission: restrictPermission(config.permission, ceiling) }));
  }
  return topics;
}

/** The group a registration joins: same cluster, or a new cluster if nobody else is left. */
function groupFor(existing: BrokerGroup, registration: BrokerRegistration): BrokerGroup {
  if (existing.clusterName === registration.clusterName) return existing;
  const others = [...existing.replicas.values()].filter(
    (replica) => replica.brokerId !== registration.brokerId && replica.address !== registration.address,
  );
  if (others.length > 0) {
    throw new RoutingError(
      'BROKER_CLUSTER_CONFLICT',
      `Broker name ${registration.brokerName} belongs to cluster ${existing.clusterName}, ` +
        `but ${registration.address} registered it under cluster ${registration.clusterName}; ` +
        'all replicas of a broker group must use the same cluster name',
    );
  }
  return { ...existing, clusterName: registration.clusterName };
}

function findReplica(group: BrokerGroup, ref: ReplicaRef): BrokerReplica | undefined {
  const replica = group.replicas.get(ref.brokerId);
  return replica && (ref.address === undefined || ref.address === replica.address) ? replica : undefined;
}

function withoutReplicas(table: RouteTable, group: BrokerGroup, brokerIds: readonly number[]): RouteTable {
  const remaining = brokerIds.reduce(withoutReplica, group);
  const replicaTopics = new Map(table.topics.get(group.brokerName) ?? []);
  for (const id of brokerIds) replicaTopics.delete(id);
  return withGroup(table, remaining, replicaTopics);
}

/** Puts `group` (or removes it, when it has no replicas left) with its replicas' topics. */
function withGroup(table: RouteTable, group: BrokerGroup, replicaTopics: ReplicaTopics): RouteTable {
  const groups = new Map(table.groups);
  const topics = new Map(table.topics);
  if (group.replicas.size === 0) {
    groups.delete(group.brokerName);
    topics.delete(group.brokerName);
  } else {
    groups.set(group.brokerName, group);
    topics.set(group.brokerName, replicaTopics);
  }
  return { groups, topics };
}

function validateTime(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    const message = `${name} is ${String(value)}; it must be a finite number of milliseconds ≥ 0`;
    throw new RoutingError('INVALID_ARGUMENT', message);
  }
}
