/**
 * apogee.broker.v1.BrokerDispatch (proto/apogee/broker/v1/dispatch.proto): the wire shapes as
 * PROTO_LOADER_OPTIONS decode them, the service loader shared by the broker and the clients, and
 * a client for followers of a broker's commit log (the index-service, tests).
 *
 * Decoded messages carry no defaults: a field the sender left unset is absent (undefined), so
 * every field is optional here; an empty repeated field is absent too. int64 fields are decoded
 * as decimal strings and may be sent as numbers or strings. Bodies are Buffers.
 *
 * Failures reject (unary) or emit 'error' (Follow) with grpc-js's ServiceError: `code` is the
 * gRPC status (INVALID_ARGUMENT, OUT_OF_RANGE, NOT_FOUND, UNAVAILABLE, ...), `details` the
 * broker's message, and the metadata key ERROR_CODE_METADATA_KEY the stable Apogee code.
 */
import * as grpc from '@grpc/grpc-js';
import type { WireInt64 } from './nameserver-wire';
import { loadApogeeService } from './proto-loader';
import { callUnary } from './unary-client';

export const BROKER_DISPATCH_PROTO = 'apogee/broker/v1/dispatch.proto';
export const BROKER_DISPATCH_SERVICE = 'apogee.broker.v1.BrokerDispatch';
/** HTTP/2 flow-control window of the client channel (NODE-PERFORMANCE §7: the default 64 KiB throttles a stream). */
export const BROKER_DISPATCH_FLOW_CONTROL_WINDOW_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 5_000;

export interface WireFollowRequest {
  from_offset?: WireInt64;
  /** Most entries per batch (default 1024, at most 8192). */
  max_batch_entries?: number;
  /** A caught-up stream sends an empty batch at least this often (default 1000 ms). */
  heartbeat_ms?: number;
}

export interface WireDispatchEntry {
  topic?: string;
  queue_id?: number;
  queue_offset?: WireInt64;
  physical_offset?: WireInt64;
  total_bytes?: number;
  message_id?: string;
  keys?: string[];
  tag?: string;
  store_timestamp_ms?: WireInt64;
}

export interface WireDispatchBatch {
  entries?: WireDispatchEntry[];
  /** Where the stream continues after this batch: resume here. */
  next_offset?: WireInt64;
  /** The log's end when the batch was made. */
  max_offset?: WireInt64;
  /** The oldest offset the broker still holds. */
  min_offset?: WireInt64;
  /** Where this batch starts. */
  from_offset?: WireInt64;
  broker_name?: string;
}

export interface WireGetMessagesRequest {
  physical_offsets?: WireInt64[];
}

export interface WireStoredMessage {
  topic?: string;
  queue_id?: number;
  queue_offset?: WireInt64;
  physical_offset?: WireInt64;
  message_id?: string;
  keys?: string[];
  tag?: string;
  properties?: Record<string, string>;
  body?: Buffer;
  born_timestamp_ms?: WireInt64;
  store_timestamp_ms?: WireInt64;
  born_host?: string;
  store_host?: string;
}

export interface WireGetMessagesItem {
  physical_offset?: WireInt64;
  /** Unset means false: retention deleted it, or no record starts there. */
  found?: boolean;
  message?: WireStoredMessage;
}

export interface WireGetMessagesResponse {
  /** One per requested offset, in request order. */
  items?: WireGetMessagesItem[];
  broker_name?: string;
}

export interface WireMessagesByTimeRequest {
  topic?: string;
  from_ms?: WireInt64;
  to_ms?: WireInt64;
  /** Default 32, at most 1000. */
  limit?: number;
  /** From a previous answer's next_cursor; empty for the first page. */
  cursor?: string;
}

export interface WireMessagesByTimeResponse {
  messages?: WireStoredMessage[];
  /** Absent or empty when there is nothing more. */
  next_cursor?: string;
  broker_name?: string;
}

/** The BrokerDispatch service constructor (its `.service` is the definition a server adds); loaded once per proto dir. */
export function loadBrokerDispatchService(dir?: string): grpc.ServiceClientConstructor {
  return loadApogeeService(BROKER_DISPATCH_PROTO, BROKER_DISPATCH_SERVICE, dir);
}

export interface BrokerDispatchClientOptions {
  /** Deadline of each unary call; default 5 s. Follow has no deadline. */
  timeoutMs?: number;
}

export interface BrokerDispatchClient {
  /** host:port */
  readonly address: string;
  /** Streams the broker's commit log from `from_offset`; it never ends by itself: the caller cancels it. */
  follow(request: WireFollowRequest): grpc.ClientReadableStream<WireDispatchBatch>;
  /** Whole messages by PhysicalOffset, one item per offset, in order. */
  getMessages(physicalOffsets: readonly (string | number)[]): Promise<WireGetMessagesResponse>;
  /** A page of a topic's messages stored in [from_ms, to_ms]. */
  messagesByTime(request: WireMessagesByTimeRequest): Promise<WireMessagesByTimeResponse>;
  /** Closes the channel; calls and streams in flight fail with CANCELLED. */
  close(): void;
}

type RawFollow = (request: WireFollowRequest, options?: grpc.CallOptions) => grpc.ClientReadableStream<WireDispatchBatch>;

/** Creates a plaintext BrokerDispatch client for the broker at host:port; close it when done. */
export function createBrokerDispatchClient(address: string, options: BrokerDispatchClientOptions = {}): BrokerDispatchClient {
  const Client = loadBrokerDispatchService();
  const client = new Client(address, grpc.credentials.createInsecure(), {
    'grpc-node.flow_control_window': BROKER_DISPATCH_FLOW_CONTROL_WINDOW_BYTES,
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const call = async <T>(method: string, request: object): Promise<T> =>
    ((await callUnary(client, method, request, timeoutMs)) ?? {}) as T;
  const follow = (client as unknown as { Follow: RawFollow }).Follow;
  return {
    address,
    follow: (request) => follow.call(client, request),
    getMessages: (physicalOffsets) =>
      call<WireGetMessagesResponse>('GetMessages', { physical_offsets: physicalOffsets.map(String) }),
    messagesByTime: (request) => call<WireMessagesByTimeResponse>('MessagesByTime', request),
    close: () => client.close(),
  };
}
