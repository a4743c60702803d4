/**
 * What the index-service needs of a broker's apogee.broker.v1.BrokerDispatch service
 * (proto/apogee/broker/v1/dispatch.proto), as structural types over the proto-loader shapes
 * (snake_case, int64 as decimal strings). @apogee/protocol's BrokerDispatchClient satisfies it;
 * unit tests pass fakes.
 */
import type * as grpc from '@grpc/grpc-js';

/** int64 on the wire: decimal strings when decoded; numbers are accepted when encoding. */
export type WireInt64 = string | number;

export interface FollowEntry {
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

export interface FollowBatch {
  entries?: FollowEntry[];
  next_offset?: WireInt64;
  max_offset?: WireInt64;
  min_offset?: WireInt64;
  from_offset?: WireInt64;
  broker_name?: string;
}

export interface StoredMessageWire {
  topic?: string;
  queue_id?: number;
  queue_offset?: WireInt64;
  physical_offset?: WireInt64;
  message_id?: string;
  keys?: string[];
  tag?: string;
  properties?: Record<string, string>;
  body?: Buffer | Uint8Array;
  born_timestamp_ms?: WireInt64;
  store_timestamp_ms?: WireInt64;
  born_host?: string;
  store_host?: string;
}

export interface GetMessagesAnswer {
  items?: { physical_offset?: WireInt64; found?: boolean; message?: StoredMessageWire | null }[];
  broker_name?: string;
}

export interface MessagesByTimeAnswer {
  messages?: StoredMessageWire[];
  next_cursor?: string;
  broker_name?: string;
}

export interface DispatchClient {
  readonly address: string;
  follow(request: { from_offset: WireInt64; max_batch_entries?: number; heartbeat_ms?: number }): grpc.ClientReadableStream<FollowBatch>;
  getMessages(physicalOffsets: readonly (string | number)[]): Promise<GetMessagesAnswer>;
  messagesByTime(request: { topic: string; from_ms: WireInt64; to_ms: WireInt64; limit: number; cursor: string }): Promise<MessagesByTimeAnswer>;
  close(): void;
}

export type DispatchClientFactory = (address: string) => DispatchClient;

/** A wire int64 as a number (our offsets and times stay below 2^53); absent or empty is 0. */
export function int64(value: WireInt64 | null | undefined): number {
  if (value === undefined || value === null || value === '') return 0;
  return typeof value === 'number' ? value : Number(value);
}
