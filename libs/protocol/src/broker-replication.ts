/**
 * apogee.broker.v1.Replication (proto/apogee/broker/v1/replication.proto): the wire shapes as
 * PROTO_LOADER_OPTIONS decode them, the service loader shared by the master and the slaves, and
 * the slave's client.
 *
 * Decoded messages carry no defaults: a field the sender left unset is absent (undefined), so
 * every field is optional here. int64 fields are decoded as decimal strings and may be sent as
 * numbers or strings. `bytes` is a Buffer.
 *
 * Failures emit 'error' on the stream with grpc-js's ServiceError: `code` is the gRPC status,
 * `details` the master's message, and the metadata key ERROR_CODE_METADATA_KEY the stable Apogee
 * code (REPLICA_REFUSED, REPLICA_AHEAD_OF_MASTER, NOT_MASTER, ...).
 */
import * as grpc from '@grpc/grpc-js';
import type { WireInt64 } from './nameserver-wire';
import { loadApogeeService } from './proto-loader';
import { callUnary } from './unary-client';

export const BROKER_REPLICATION_PROTO = 'apogee/broker/v1/replication.proto';
export const BROKER_REPLICATION_SERVICE = 'apogee.broker.v1.Replication';
/** Most log bytes in one LogChunk. */
export const REPLICATION_MAX_CHUNK_BYTES = 1024 * 1024;
/** HTTP/2 flow-control window of the slave's channel (NODE-PERFORMANCE §7: the default 64 KiB throttles a stream). */
export const REPLICATION_FLOW_CONTROL_WINDOW_BYTES = 4 * 1024 * 1024;
/** Chunks of 1 MiB and a little framing: above grpc-js's default 4 MiB limit is not needed, but keep headroom. */
const MAX_RECEIVE_MESSAGE_BYTES = 2 * REPLICATION_MAX_CHUNK_BYTES;

export interface WireReplicaHello {
  broker_name?: string;
  broker_id?: number;
  /** The slave's log end: the master streams from here. */
  from_offset?: WireInt64;
  segment_bytes?: WireInt64;
  /** host:port the slave is reached at. */
  address?: string;
  /** The last epoch of the slave's epoch history (0 without an ha-replicator). */
  last_epoch?: WireInt64;
}

export interface WireReplicaProgress {
  written_offset?: WireInt64;
  synced_offset?: WireInt64;
}

/** Exactly one of hello (first) and progress (every later report). */
export interface WireReplicaReport {
  hello?: WireReplicaHello;
  progress?: WireReplicaProgress;
}

export interface WireLogChunk {
  /** Where `bytes` starts in the commit log. */
  from_offset?: WireInt64;
  /** Whole records; empty (absent or length 0) in a heartbeat. */
  bytes?: Buffer;
  master_max_offset?: WireInt64;
  master_time_ms?: WireInt64;
  /** The slave must cut its log back to from_offset and reconnect (the stream's only chunk). */
  truncate?: boolean;
}

/** SyncMetadata's answer: JSON texts (replication.proto MetadataSnapshot). */
export interface WireMetadataSnapshot {
  topics_json?: string;
  groups_json?: string;
  positions_json?: string;
  transactions_json?: string;
}

/** The Replication service constructor (its `.service` is the definition a server adds); loaded once per proto dir. */
export function loadReplicationService(dir?: string): grpc.ServiceClientConstructor {
  return loadApogeeService(BROKER_REPLICATION_PROTO, BROKER_REPLICATION_SERVICE, dir);
}

export interface ReplicationClient {
  /** host:port of the master. */
  readonly address: string;
  /** Opens a Replicate stream: write the hello first, then progress reports; it never ends by itself. */
  replicate(): grpc.ClientDuplexStream<WireReplicaReport, WireLogChunk>;
  /** The master's topics, groups and consumer positions; `positionsJson`: the slave's own advances. */
  syncMetadata(timeoutMs: number, positionsJson?: string): Promise<WireMetadataSnapshot>;
  /** Closes the channel; streams in flight fail with CANCELLED. */
  close(): void;
}

type RawReplicate = (options?: grpc.CallOptions) => grpc.ClientDuplexStream<WireReplicaReport, WireLogChunk>;

/** Creates a plaintext Replication client for the master at host:port; close it when done. */
export function createReplicationClient(address: string): ReplicationClient {
  const Client = loadReplicationService();
  const client = new Client(address, grpc.credentials.createInsecure(), {
    'grpc-node.flow_control_window': REPLICATION_FLOW_CONTROL_WINDOW_BYTES,
    'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
  });
  const replicate = (client as unknown as { Replicate: RawReplicate }).Replicate;
  return {
    address,
    replicate: () => replicate.call(client),
    syncMetadata: async (timeoutMs, positionsJson = '[]') =>
      (await callUnary(client, 'SyncMetadata', { positions_json: positionsJson }, timeoutMs)) as WireMetadataSnapshot,
    close: () => client.close(),
  };
}
