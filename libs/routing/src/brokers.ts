/**
 * Broker groups: one master and zero or more slaves sharing a broker name, as RocketMQ's
 * `BrokerData`. Broker id 0 is the master; any other id is a slave. When the ha-replicator
 * promotes a slave, the promoted broker re-registers under id 0, so the role always follows
 * from the id and a group has at most one master.
 *
 * Groups are values: the helpers here return new groups and never change their input.
 */
import { RoutingError } from './routing-error';

export const MASTER_ID = 0;
/** Broker ids travel as int32 in the v2 protocol (`Broker.id`). */
export const MAX_BROKER_ID = 2 ** 31 - 1;

export type BrokerRole = 'MASTER' | 'SLAVE';

export interface BrokerReplica {
  readonly brokerId: number;
  /** `host:port` of the broker's gRPC endpoint. */
  readonly address: string;
  readonly role: BrokerRole;
  readonly lastHeartbeatMs: number;
}

export interface BrokerGroup {
  readonly clusterName: string;
  readonly brokerName: string;
  readonly replicas: ReadonlyMap<number, BrokerReplica>;
}

export function roleOf(brokerId: number): BrokerRole {
  return brokerId === MASTER_ID ? 'MASTER' : 'SLAVE';
}

export function validateBrokerId(brokerId: number): void {
  if (!Number.isInteger(brokerId) || brokerId < 0 || brokerId > MAX_BROKER_ID) {
    throw new RoutingError(
      'INVALID_BROKER_ID',
      `Broker id ${String(brokerId)} is invalid; allowed: an integer from 0 (master) ` +
        `to ${MAX_BROKER_ID} (slaves use 1 and up)`,
    );
  }
}

export function masterOf(group: BrokerGroup): BrokerReplica | undefined {
  return group.replicas.get(MASTER_ID);
}

/** Every replica that can serve reads: the master first, then slaves by ascending id. */
export function readableReplicas(group: BrokerGroup): BrokerReplica[] {
  return [...group.replicas.values()].sort((a, b) => a.brokerId - b.brokerId);
}

/** Slaves only, by ascending id. */
export function slavesOf(group: BrokerGroup): BrokerReplica[] {
  return readableReplicas(group).filter((replica) => replica.role === 'SLAVE');
}

/**
 * Adds or replaces the replica with `replica.brokerId`. Any other replica at the same
 * address is dropped: one process has one id (a promoted slave re-registers as id 0).
 */
export function withReplica(group: BrokerGroup, replica: BrokerReplica): BrokerGroup {
  const replicas = new Map<number, BrokerReplica>();
  for (const [id, existing] of group.replicas) {
    if (id !== replica.brokerId && existing.address !== replica.address) replicas.set(id, existing);
  }
  replicas.set(replica.brokerId, replica);
  return { ...group, replicas };
}

export function withoutReplica(group: BrokerGroup, brokerId: number): BrokerGroup {
  if (!group.replicas.has(brokerId)) return group;
  const replicas = new Map(group.replicas);
  replicas.delete(brokerId);
  return { ...group, replicas };
}
