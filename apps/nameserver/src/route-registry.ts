/**
 * The nameserver's state: one immutable RouteTable (libs/routing), swapped for the table each
 * operation returns. Memory only: after a restart it is rebuilt from broker registrations.
 * Operations are synchronous, so gRPC calls and the eviction timer never interleave inside one.
 */
import {
  clusterInfo,
  emptyRouteTable,
  evictStale,
  heartbeat,
  listTopics,
  register,
  routeOf,
  unregister,
  type BrokerRegistration,
  type ClusterInfo,
  type EvictedReplica,
  type ReplicaRef,
  type RouteTable,
  type TopicRoute,
} from '@apogee/routing';
import { systemClock, type Clock } from '@apogee/runtime';

export interface Eviction extends EvictedReplica {
  /** How long the replica had been silent when it was dropped. */
  readonly silentMs: number;
}

export class RouteRegistry {
  private table: RouteTable = emptyRouteTable();

  constructor(private readonly clock: Clock = systemClock) {}

  /** Adds or refreshes a replica; `isNew` unless the same id was registered at the same address. */
  register(registration: BrokerRegistration): { isNew: boolean } {
    const before = this.table.groups.get(registration.brokerName)?.replicas.get(registration.brokerId);
    this.table = register(this.table, registration, this.clock.now());
    return { isNew: before?.address !== registration.address };
  }

  /** Refreshes the replica's heartbeat time; false when the replica is unknown. */
  heartbeat(ref: ReplicaRef): boolean {
    const result = heartbeat(this.table, ref, this.clock.now());
    if (result.kind === 'unknown-broker') return false;
    this.table = result.table;
    return true;
  }

  /** Removes the replica; false when it was not registered. */
  unregister(ref: ReplicaRef): boolean {
    const after = unregister(this.table, ref);
    const removed = after !== this.table;
    this.table = after;
    return removed;
  }

  /** Drops every replica silent for longer than `windowMs` and returns them. */
  evictStale(windowMs: number): Eviction[] {
    const nowMs = this.clock.now();
    const { table, evicted } = evictStale(this.table, nowMs, windowMs);
    this.table = table;
    return evicted.map((replica) => ({ ...replica, silentMs: nowMs - replica.lastHeartbeatMs }));
  }

  routeOf(topic: string): TopicRoute | undefined {
    return routeOf(this.table, topic);
  }

  clusterInfo(): ClusterInfo {
    return clusterInfo(this.table);
  }

  listTopics(): string[] {
    return listTopics(this.table);
  }

  /** Registered replicas (masters and slaves). */
  get liveBrokerCount(): number {
    let count = 0;
    for (const group of this.table.groups.values()) count += group.replicas.size;
    return count;
  }
}
