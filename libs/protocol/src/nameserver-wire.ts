/**
 * The wire shapes of `apogee.nameserver.v1.NameServer` (proto/apogee/nameserver/v1/nameserver.proto)
 * as proto-loader hands them over with PROTO_LOADER_OPTIONS: snake_case field names, enums as
 * their names, int64 as decimal strings. Fields left at their proto3 default may be absent on
 * receipt, so every field is optional; senders may give int64 values as numbers.
 *
 * Both ends use these: the nameserver's handlers and createNameServerClient. The conversions to
 * and from the routing model are in nameserver-codec.ts.
 */
import type * as grpc from '@grpc/grpc-js';
import { loadApogeeProto, serviceAt } from './proto-loader';

export const NAMESERVER_PROTO_FILE = 'apogee/nameserver/v1/nameserver.proto';
/** The full service name: gRPC path prefix and grpc.health.v1 service name. */
export const NAMESERVER_SERVICE_NAME = 'apogee.nameserver.v1.NameServer';

let loaded: grpc.ServiceClientConstructor | undefined;

/** The NameServer client constructor; its `service` is the definition servers add. Loaded once. */
export function loadNameServerService(): grpc.ServiceClientConstructor {
  loaded ??= serviceAt(loadApogeeProto(NAMESERVER_PROTO_FILE), NAMESERVER_SERVICE_NAME);
  return loaded;
}

/** int64 on the wire: a string on receipt, a number or string when sending. */
export type WireInt64 = string | number;

/** A wire int64 as a number (our offsets, counts and times stay below 2^53); absent is 0. */
export function int64FromWire(value: WireInt64 | null | undefined): number {
  return value === undefined || value === null ? 0 : Number(value);
}

export type WireMessageType = 'MESSAGE_TYPE_UNSPECIFIED' | 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION';
export type WireBrokerRole = 'BROKER_ROLE_UNSPECIFIED' | 'MASTER' | 'SLAVE';

export interface WireTopicConfig {
  name?: string;
  read_queue_count?: number;
  write_queue_count?: number;
  permission?: number;
  message_type?: WireMessageType;
}

export interface WireRegisterBrokerRequest {
  cluster_name?: string;
  broker_name?: string;
  broker_id?: number;
  address?: string;
  role?: WireBrokerRole;
  topics?: WireTopicConfig[];
  broker_permission?: number;
}

export interface WireRegisterBrokerResponse {
  heartbeat_interval_ms?: WireInt64;
  eviction_window_ms?: WireInt64;
}

/** HeartbeatRequest and UnregisterBrokerRequest. */
export interface WireReplicaRef {
  broker_name?: string;
  broker_id?: number;
  address?: string;
}

export interface WireHeartbeatResponse {
  reregister?: boolean;
}

export interface WireUnregisterBrokerResponse {
  removed?: boolean;
}

export interface WireQueryRouteRequest {
  topic?: string;
}

export interface WireMessageQueue {
  broker_name?: string;
  queue_id?: number;
  permission?: number;
  accept_message_types?: WireMessageType[];
}

export interface WireRouteBroker {
  broker_name?: string;
  broker_id?: number;
  address?: string;
}

export interface WireQueryRouteResponse {
  topic?: string;
  queues?: WireMessageQueue[];
  brokers?: WireRouteBroker[];
}

export interface WireBrokerReplica {
  broker_id?: number;
  address?: string;
  role?: WireBrokerRole;
  last_heartbeat_ms?: WireInt64;
}

export interface WireBrokerGroup {
  broker_name?: string;
  replicas?: WireBrokerReplica[];
}

export interface WireCluster {
  cluster_name?: string;
  broker_groups?: WireBrokerGroup[];
}

export interface WireGetClusterInfoResponse {
  clusters?: WireCluster[];
}

export interface WireListTopicsResponse {
  topics?: string[];
}

/** The empty requests (GetClusterInfoRequest, ListTopicsRequest). */
export type WireEmpty = Record<string, never>;
