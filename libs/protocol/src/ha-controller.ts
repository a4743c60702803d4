/**
 * apogee.ha.v1.HaController (proto/apogee/ha/v1/ha.proto): the wire shapes as PROTO_LOADER_OPTIONS
 * decode them, the service loader for the ha-replicator, and the client brokers, the CLI and tests
 * use.
 *
 * Decoded messages carry no defaults: a field the sender left unset is absent (undefined), so
 * every field is optional here. int64 fields are decoded as decimal strings and may be sent as
 * numbers or strings.
 */
import * as grpc from '@grpc/grpc-js';
import type { WireInt64 } from './nameserver-wire';
import { loadApogeeService } from './proto-loader';
import { callUnary } from './unary-client';

export const HA_CONTROLLER_PROTO = 'apogee/ha/v1/ha.proto';
export const HA_CONTROLLER_SERVICE = 'apogee.ha.v1.HaController';

export type HaRole = 'ROLE_UNSPECIFIED' | 'MASTER' | 'SLAVE' | 'STANDBY';

export interface WireReplicaState {
  address?: string;
  written_offset?: WireInt64;
  in_sync?: boolean;
}

export interface WireBrokerHeartbeat {
  cluster_name?: string;
  broker_name?: string;
  replica_id?: number;
  address?: string;
  role?: HaRole;
  epoch?: WireInt64;
  epoch_start_offset?: WireInt64;
  max_offset?: WireInt64;
  synced_offset?: WireInt64;
  replicas?: WireReplicaState[];
  replication_mode?: string;
  master_connected?: boolean;
  master_max_offset?: WireInt64;
}

export interface WireAssignment {
  role?: HaRole;
  epoch?: WireInt64;
  epoch_start_offset?: WireInt64;
  master_address?: string;
  route_broker_id?: number;
  lease_ms?: WireInt64;
}

export interface WireBrokerHeartbeatResponse {
  acting?: boolean;
  acting_address?: string;
  assignment?: WireAssignment;
}

export interface WireGroupReplica {
  replica_id?: number;
  address?: string;
  role?: HaRole;
  epoch?: WireInt64;
  max_offset?: WireInt64;
  lag_bytes?: WireInt64;
  in_sync?: boolean;
  silent_ms?: WireInt64;
}

export interface WireHaGroup {
  cluster_name?: string;
  broker_name?: string;
  epoch?: WireInt64;
  master_address?: string;
  master_replica_id?: number;
  replicas?: WireGroupReplica[];
  failovers?: WireInt64;
}

export interface WireListGroupsResponse {
  acting?: boolean;
  acting_address?: string;
  groups?: WireHaGroup[];
}

/** The HaController service constructor (its `.service` is the definition a server adds). */
export function loadHaControllerService(dir?: string): grpc.ServiceClientConstructor {
  return loadApogeeService(HA_CONTROLLER_PROTO, HA_CONTROLLER_SERVICE, dir);
}

export interface HaControllerClient {
  /** host:port of the ha-replicator. */
  readonly address: string;
  heartbeat(request: WireBrokerHeartbeat, timeoutMs: number): Promise<WireBrokerHeartbeatResponse>;
  listGroups(timeoutMs: number): Promise<WireListGroupsResponse>;
  close(): void;
}

/** A plaintext HaController client for the ha-replicator at host:port; close it when done. */
export function createHaControllerClient(address: string): HaControllerClient {
  const Client = loadHaControllerService();
  const client = new Client(address, grpc.credentials.createInsecure());
  return {
    address,
    heartbeat: async (request, timeoutMs) => (await callUnary(client, 'BrokerHeartbeat', request, timeoutMs)) as WireBrokerHeartbeatResponse,
    listGroups: async (timeoutMs) => (await callUnary(client, 'ListGroups', {}, timeoutMs)) as WireListGroupsResponse,
    close: () => client.close(),
  };
}
