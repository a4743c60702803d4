/**
 * apogee.broker.v1.BrokerAdmin (proto/apogee/broker/v1/admin.proto): the wire shapes as
 * PROTO_LOADER_OPTIONS decode them, the method table shared by the broker's handlers and the
 * clients, and a promise-based client for the CLI and tests.
 *
 * Decoded messages carry no defaults: a field the sender left unset is absent (undefined), so
 * every field is optional here. The broker sets every field of the messages it answers with.
 */
import * as grpc from '@grpc/grpc-js';
import { loadApogeeService } from './proto-loader';
import { callUnary } from './unary-client';

export const BROKER_ADMIN_PROTO = 'apogee/broker/v1/admin.proto';
export const BROKER_ADMIN_SERVICE = 'apogee.broker.v1.BrokerAdmin';

export type AdminMessageType = 'MESSAGE_TYPE_UNSPECIFIED' | 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION';
export type AdminPermission = 'PERMISSION_UNSPECIFIED' | 'NONE' | 'READ' | 'WRITE' | 'READ_WRITE';

export interface AdminTopic {
  name?: string;
  read_queue_count?: number;
  write_queue_count?: number;
  permission?: AdminPermission;
  message_type?: AdminMessageType;
}

export interface AdminExponentialBackoff {
  initial_ms?: number;
  max_ms?: number;
  multiplier?: number;
}

export interface AdminRetryPolicy {
  exponential?: AdminExponentialBackoff;
  customized?: { delays_ms?: number[] };
}

export interface AdminGroup {
  name?: string;
  /** Unset means false. */
  fifo?: boolean;
  max_delivery_attempts?: number;
  retry_policy?: AdminRetryPolicy;
  /** Unset means false: every client of the group gets every message. */
  broadcast?: boolean;
}

/** Create and Update requests: the name plus the fields to set. */
export type AdminTopicRequest = AdminTopic;
export type AdminGroupRequest = AdminGroup;

export interface AdminNameRequest {
  name?: string;
}

export type AdminResetEdge = 'RESET_EDGE_UNSPECIFIED' | 'EARLIEST' | 'LATEST';

/** ResetOffset: exactly one of timestamp_ms (epoch ms; int64, decoded as a string) and edge. */
export interface AdminResetOffsetRequest {
  group?: string;
  topic?: string;
  timestamp_ms?: number | string;
  edge?: AdminResetEdge;
}

/** One queue's reset; the int64 offsets are decoded as strings. */
export interface AdminQueueOffsetReset {
  queue_id?: number;
  /** Absent when the group had never consumed the queue. */
  old_committed_offset?: number | string;
  new_offset?: number | string;
  dropped_inflight?: number;
  /** A broadcast group's client whose position moved; absent on the group's rows for new clients. */
  client_id?: string;
}

export interface AdminResetOffsetResponse {
  group?: string;
  topic?: string;
  queues?: AdminQueueOffsetReset[];
  future_timestamp?: boolean;
  /** The group is a broadcast group: rows per client, and rows without a client id for new clients. */
  broadcast?: boolean;
}

/** GroupProgress: the group's queues on the broker, or only those of `topic`. */
export interface AdminGroupProgressRequest {
  group?: string;
  topic?: string;
}

/** One queue's progress; the int64 fields are decoded as strings. */
export interface AdminQueueProgress {
  topic?: string;
  queue_id?: number;
  committed_offset?: number | string;
  next_offset?: number | string;
  min_offset?: number | string;
  max_offset?: number | string;
  lag?: number | string;
  inflight?: number;
  lag_seconds?: number;
  consumed?: boolean;
  /** A broadcast group's client this row is about; absent for a normal group. */
  client_id?: string;
}

/** A consumer of the group the broker knows now; last_seen_ms is decoded as a string. */
export interface AdminConnectedConsumer {
  client_id?: string;
  client_type?: string;
  last_seen_ms?: number | string;
}

export interface AdminGroupProgressResponse {
  group?: string;
  queues?: AdminQueueProgress[];
  consumers?: AdminConnectedConsumer[];
}

export type AdminReplicationRole = 'REPLICATION_ROLE_UNSPECIFIED' | 'MASTER' | 'SLAVE' | 'STANDBY';
export type AdminReplicationMode = 'REPLICATION_MODE_UNSPECIFIED' | 'ASYNC' | 'SYNC';

/** A replica connected to a master; the int64 fields are decoded as strings (absent when 0). */
export interface AdminConnectedReplica {
  broker_id?: number;
  address?: string;
  written_offset?: number | string;
  synced_offset?: number | string;
  lag_bytes?: number | string;
  lag_seconds?: number;
  in_sync?: boolean;
  last_report_age_ms?: number | string;
}

/** The master a slave follows; the int64 fields are decoded as strings (absent when 0). */
export interface AdminFollowedMaster {
  address?: string;
  connected?: boolean;
  master_max_offset?: number | string;
  lag_bytes?: number | string;
}

/** ReplicationStatus: the broker's role, epoch and log end, and its replicas (master) or its master (slave). */
export interface AdminReplicationStatusResponse {
  role?: AdminReplicationRole;
  broker_id?: number;
  epoch?: number | string;
  max_offset?: number | string;
  replication_mode?: AdminReplicationMode;
  /** MASTER: the replicas connected now, by broker id. */
  replicas?: AdminConnectedReplica[];
  /** SLAVE: the master it follows. */
  master?: AdminFollowedMaster;
}

export interface AdminTopicStatsRequest {
  topic?: string;
}

/** One queue's stored range; the int64 fields are decoded as strings. */
export interface AdminQueueStats {
  queue_id?: number;
  min_offset?: number | string;
  max_offset?: number | string;
  /** Epoch ms of the newest message; 0 when the queue is empty. */
  last_store_timestamp_ms?: number | string;
}

export interface AdminTopicStatsResponse {
  topic?: string;
  queues?: AdminQueueStats[];
}

/** One config field of a running broker; value_json is the value as JSON. */
export interface AdminConfigEntry {
  key?: string;
  value_json?: string;
  /** Unset means false: the field needs a restart to change. */
  runtime?: boolean;
  secret?: boolean;
  description?: string;
}

export interface AdminGetConfigResponse {
  entries?: AdminConfigEntry[];
}

/** SetConfig: `value` as on the command line (true/false, a number, a string, a comma-separated list). */
export interface AdminSetConfigRequest {
  key?: string;
  value?: string;
}

export interface AdminSetConfigResponse {
  old_entry?: AdminConfigEntry;
  entry?: AdminConfigEntry;
}

/** Every BrokerAdmin RPC: [request, response]. */
export interface BrokerAdminMethods {
  CreateTopic: [AdminTopicRequest, { topic?: AdminTopic }];
  UpdateTopic: [AdminTopicRequest, { topic?: AdminTopic }];
  DeleteTopic: [AdminNameRequest, { topic?: AdminTopic }];
  GetTopic: [AdminNameRequest, { topic?: AdminTopic }];
  ListTopics: [Record<string, never>, { topics?: AdminTopic[] }];
  CreateGroup: [AdminGroupRequest, { group?: AdminGroup }];
  UpdateGroup: [AdminGroupRequest, { group?: AdminGroup }];
  DeleteGroup: [AdminNameRequest, { group?: AdminGroup }];
  GetGroup: [AdminNameRequest, { group?: AdminGroup }];
  ListGroups: [Record<string, never>, { groups?: AdminGroup[] }];
  ResetOffset: [AdminResetOffsetRequest, AdminResetOffsetResponse];
  GroupProgress: [AdminGroupProgressRequest, AdminGroupProgressResponse];
  ReplicationStatus: [Record<string, never>, AdminReplicationStatusResponse];
  TopicStats: [AdminTopicStatsRequest, AdminTopicStatsResponse];
  GetConfig: [Record<string, never>, AdminGetConfigResponse];
  SetConfig: [AdminSetConfigRequest, AdminSetConfigResponse];
}

export type BrokerAdminMethod = keyof BrokerAdminMethods;

/** What a broker implements: one async function per RPC; a throw becomes the gRPC error. */
export type BrokerAdminHandlers = {
  readonly [M in BrokerAdminMethod]: (request: BrokerAdminMethods[M][0]) => Promise<BrokerAdminMethods[M][1]>;
};

/** The BrokerAdmin service constructor (its `.service` is the definition a server adds); loaded once per proto dir. */
export function loadBrokerAdminService(dir?: string): grpc.ServiceClientConstructor {
  return loadApogeeService(BROKER_ADMIN_PROTO, BROKER_ADMIN_SERVICE, dir);
}

export interface BrokerAdminCallOptions {
  /** Default 5,000. */
  timeoutMs?: number;
}

export interface BrokerAdminClient {
  /** Calls one RPC; rejects with the grpc-js ServiceError (code, details, metadata). */
  call<M extends BrokerAdminMethod>(
    method: M,
    request: BrokerAdminMethods[M][0],
    options?: BrokerAdminCallOptions,
  ): Promise<BrokerAdminMethods[M][1]>;
  close(): void;
}

/** An insecure BrokerAdmin client for host:port. Close it with client.close(). */
export function createBrokerAdminClient(address: string): BrokerAdminClient {
  const Service = loadBrokerAdminService();
  const raw = new Service(address, grpc.credentials.createInsecure());
  return {
    call: (method, request, options = {}) => callUnary(raw, method, request, options.timeoutMs ?? 5_000) as never,
    close: () => raw.close(),
  };
}
