/**
 * Queries over a RouteTable: the route of a topic, the cluster layout, the topic list.
 *
 * A topic's route merges the topic's configs across broker groups. Each group contributes
 * the queues its master serves. A group whose master is missing (dead, not yet replaced)
 * contributes the queues of its first slave that has the topic, read-only: consumers keep
 * draining while nobody can write. Slaves never appear next to their master, because
 * clients must not send to or receive from a slave whose master is alive.
 *
 * Queue i of a broker is readable when i < readQueueCount and writable when
 * i < writeQueueCount (within the topic's permission), so queue 0 of a read-write topic is
 * always READ_WRITE, which Node clients need. A topic with neither READ nor WRITE still lists
 * its queues, as NONE, the way RocketMQ's proxy does.
 */
import { type BrokerGroup, type BrokerReplica, type BrokerRole, MASTER_ID, masterOf, slavesOf } from './brokers';
import { type MessageQueue, compareStrings } from './message-queue';
import { PERM_READ, PERM_WRITE, Permission, isAccessible, isReadable, isWritable, restrictPermission } from './permissions';
import type { RouteTable } from './route-table';
import { type TopicConfig, acceptedMessageTypes, queueIdCount } from './topics';

export interface RouteBroker {
  readonly brokerName: string;
  readonly brokerId: number;
  readonly address: string;
}

export interface TopicRoute {
  readonly topic: string;
  /** Sorted by broker name, then queue id. */
  readonly queues: readonly MessageQueue[];
  /** One per contributing broker group, sorted by broker name. */
  readonly brokers: readonly RouteBroker[];
}

export interface ClusterInfo {
  /** Sorted by cluster name; broker names sorted. */
  readonly clusters: readonly { readonly clusterName: string; readonly brokerNames: readonly string[] }[];
  /** Sorted by broker name; replicas by ascending id. */
  readonly brokers: readonly {
    readonly clusterName: string;
    readonly brokerName: string;
    readonly replicas: readonly BrokerReplica[];
  }[];
}

/** The topic's route, or undefined when no broker serves the topic. */
export function routeOf(table: RouteTable, topic: string): TopicRoute | undefined {
  const queues: MessageQueue[] = [];
  const brokers: RouteBroker[] = [];
  for (const [brokerName, group] of sortedEntries(table.groups)) {
    const source = routeSource(table, group, topic);
    if (!source) continue;
    const { replica, config } = source;
    brokers.push({ brokerName, brokerId: replica.brokerId, address: replica.address });
    queues.push(...queuesOf(config, brokerName, replica.role));
  }
  return brokers.length > 0 ? { topic, queues, brokers } : undefined;
}

/** The queues one broker serves for a topic; a slave's are read-only. */
export function queuesOf(config: TopicConfig, brokerName: string, role: BrokerRole = 'MASTER'): MessageQueue[] {
  const ceiling = role === 'MASTER' ? Permission.READ_WRITE : Permission.READ;
  const permission = restrictPermission(config.permission, ceiling);
  const acceptMessageTypes = acceptedMessageTypes(config);
  const queue = (queueId: number, bits: Permission): MessageQueue => ({
    topic: config.name,
    brokerName,
    queueId,
    permission: bits,
    acceptMessageTypes,
  });
  const ids = [...Array(queueIdCount(config)).keys()];
  if (!isAccessible(permission)) return ids.map((id) => queue(id, Permission.NONE));
  return ids
    .map((id) => queue(id, queuePermission(config, permission, id)))
    .filter((q) => q.permission !== Permission.NONE);
}

export function clusterInfo(table: RouteTable): ClusterInfo {
  const byCluster = new Map<string, string[]>();
  const brokers = sortedEntries(table.groups).map(([brokerName, group]) => {
    byCluster.set(group.clusterName, [...(byCluster.get(group.clusterName) ?? []), brokerName]);
    const replicas = [...group.replicas.values()].sort((a, b) => a.brokerId - b.brokerId);
    return { clusterName: group.clusterName, brokerName, replicas };
  });
  const clusters = sortedEntries(byCluster).map(([clusterName, brokerNames]) => ({ clusterName, brokerNames }));
  return { clusters, brokers };
}

/** Every topic any replica serves, system topics included, sorted. */
export function listTopics(table: RouteTable): string[] {
  const names = new Set<string>();
  for (const replicaTopics of table.topics.values()) {
    for (const configs of replicaTopics.values()) {
      for (const name of configs.keys()) names.add(name);
    }
  }
  return [...names].sort(compareStrings);
}

function routeSource(
  table: RouteTable,
  group: BrokerGroup,
  topic: string,
): { replica: BrokerReplica; config: TopicConfig } | undefined {
  const configs = table.topics.get(group.brokerName);
  const master = masterOf(group);
  if (master) {
    const config = configs?.get(MASTER_ID)?.get(topic);
    return config && { replica: master, config };
  }
  for (const slave of slavesOf(group)) {
    const config = configs?.get(slave.brokerId)?.get(topic);
    if (config) return { replica: slave, config };
  }
  return undefined;
}

function queuePermission(config: TopicConfig, permission: Permission, queueId: number): Permission {
  const read = isReadable(permission) && queueId < config.readQueueCount ? PERM_READ : 0;
  const write = isWritable(permission) && queueId < config.writeQueueCount ? PERM_WRITE : 0;
  return read | write;
}

function sortedEntries<V>(map: ReadonlyMap<string, V>): [string, V][] {
  return [...map].sort(([a], [b]) => compareStrings(a, b));
}
