/**
 * The apache.rocketmq.v2 messages the broker's MessagingService reads and writes, as
 * @grpc/proto-loader decodes them with PROTO_LOADER_OPTIONS: snake_case names, int64 as decimal
 * strings, enums as names, absent fields undefined (no `defaults`), oneof members by presence.
 * Only the fields the broker uses are typed; the protos themselves come from the official client.
 */
import type { V2Status } from '@apogee/protocol';

export interface WireDuration {
  seconds?: string | number;
  nanos?: number;
}

export type WireTimestamp = WireDuration;

export interface WireResource {
  resource_namespace?: string;
  name?: string;
}

export interface WireAddress {
  host: string;
  port: number;
}

export interface WireEndpoints {
  scheme?: string;
  addresses?: WireAddress[];
}

export interface WireBroker {
  name: string;
  id: number;
  endpoints: WireEndpoints;
}

export interface WireMessageQueue {
  topic: WireResource;
  id: number;
  permission: string;
  broker: WireBroker;
  accept_message_types: string[];
}

export interface WireSystemProperties {
  tag?: string;
  keys?: string[];
  message_id?: string;
  message_type?: string;
  born_timestamp?: WireTimestamp;
  born_host?: string;
  delivery_timestamp?: WireTimestamp;
  queue_id?: number;
  message_group?: string;
  lite_topic?: string;
  priority?: number;
}

export interface WireMessage {
  topic?: WireResource;
  user_properties?: Record<string, string>;
  system_properties?: WireSystemProperties;
  body?: Buffer;
}

export interface WireRetryPolicy {
  max_attempts?: number;
  exponential_backoff?: { initial?: WireDuration; max?: WireDuration; multiplier?: number };
  customized_backoff?: { next?: WireDuration[] };
}

export interface WireSettings {
  client_type?: string;
  access_point?: WireEndpoints;
  backoff_policy?: WireRetryPolicy;
  request_timeout?: WireDuration;
  publishing?: { topics?: WireResource[]; max_body_size?: number; validate_message_type?: boolean };
  subscription?: {
    group?: WireResource;
    subscriptions?: { topic?: WireResource; expression?: { type?: string; expression?: string } }[];
    fifo?: boolean;
    receive_batch_size?: number;
    long_polling_timeout?: WireDuration;
  };
  user_agent?: { language?: string; version?: string; platform?: string; hostname?: string };
  metric?: { on?: boolean };
}

export interface WireTelemetryCommand {
  status?: V2Status;
  settings?: WireSettings;
  [command: string]: unknown;
}

export interface WireQueryRouteRequest {
  topic?: WireResource;
  endpoints?: WireEndpoints;
}

export interface WireQueryRouteResponse {
  status: V2Status;
  message_queues: WireMessageQueue[];
}

export interface WireQueryAssignmentRequest {
  topic?: WireResource;
  group?: WireResource;
  endpoints?: WireEndpoints;
}

export interface WireAssignment {
  message_queue: WireMessageQueue;
}

export interface WireQueryAssignmentResponse {
  status: V2Status;
  assignments: WireAssignment[];
}

export interface WireSendMessageRequest {
  messages?: WireMessage[];
}

export interface WireSendResultEntry {
  status: V2Status;
  message_id: string;
  transaction_id: string;
  offset: string;
}

export interface WireSendMessageResponse {
  status: V2Status;
  entries: WireSendResultEntry[];
}

export interface WireHeartbeatRequest {
  group?: WireResource;
  client_type?: string;
}

export interface WireNotifyClientTerminationRequest {
  group?: WireResource;
}

export interface WireStatusResponse {
  status: V2Status;
}

export interface WireFilterExpression {
  type?: string;
  expression?: string;
}

export interface WireReceiveMessageRequest {
  group?: WireResource;
  message_queue?: { topic?: WireResource; id?: number; broker?: { name?: string } };
  filter_expression?: WireFilterExpression;
  batch_size?: number;
  invisible_duration?: WireDuration;
  auto_renew?: boolean;
  long_polling_timeout?: WireDuration;
  attempt_id?: string;
}

/** A Message as delivered to consumers (doc §2.2). */
export interface WireDeliveredMessage {
  topic: WireResource;
  user_properties: Record<string, string>;
  system_properties: {
    tag?: string;
    keys: string[];
    message_id: string;
    body_digest: { type: 'MD5'; checksum: string };
    body_encoding: 'IDENTITY';
    message_type: string;
    born_timestamp: WireTimestamp;
    born_host: string;
    store_timestamp: WireTimestamp;
    store_host: string;
    /** Popped messages only (ReceiveMessage). */
    receipt_handle?: string;
    queue_id: number;
    queue_offset: string;
    /** Popped messages only (ReceiveMessage). */
    invisible_duration?: WireDuration;
    delivery_attempt: number;
    message_group?: string;
    dead_letter_queue?: { topic: string; message_id: string };
    delivery_timestamp?: WireTimestamp;
  };
  body: Buffer;
}

/** The queue PullMessage, GetOffset and UpdateOffset name: topic and queue id (taken literally). */
export interface WireOffsetQueue {
  topic?: WireResource;
  id?: number;
  broker?: { name?: string };
}

export interface WirePullMessageRequest {
  group?: WireResource;
  message_queue?: WireOffsetQueue;
  /** int64: a decimal string. */
  offset?: string | number;
  batch_size?: number;
  filter_expression?: WireFilterExpression;
  long_polling_timeout?: WireDuration;
}

export interface WireGetOffsetRequest {
  group?: WireResource;
  message_queue?: WireOffsetQueue;
}

export interface WireGetOffsetResponse {
  status: V2Status;
  offset: string;
}

export interface WireUpdateOffsetRequest {
  group?: WireResource;
  message_queue?: WireOffsetQueue;
  /** int64: a decimal string. */
  offset?: string | number;
}

export interface WireAckMessageRequest {
  group?: WireResource;
  topic?: WireResource;
  entries?: { message_id?: string; receipt_handle?: string }[];
}

export interface WireAckMessageResultEntry {
  message_id: string;
  receipt_handle: string;
  status: V2Status;
}

export interface WireAckMessageResponse {
  status: V2Status;
  entries: WireAckMessageResultEntry[];
}

export interface WireChangeInvisibleDurationRequest {
  group?: WireResource;
  topic?: WireResource;
  receipt_handle?: string;
  invisible_duration?: WireDuration;
  message_id?: string;
}

export interface WireChangeInvisibleDurationResponse {
  status: V2Status;
  receipt_handle: string;
}

/** A Timestamp of epoch milliseconds `ms`. */
export function timestampOf(ms: number): WireTimestamp {
  return durationOf(ms);
}

/** Whole milliseconds of a Duration or Timestamp (int64 seconds arrive as strings). */
export function millisOf(value: WireDuration | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  return Number(value.seconds ?? 0) * 1000 + Math.floor((value.nanos ?? 0) / 1e6);
}

/** A Duration of `ms` milliseconds. */
export function durationOf(ms: number): WireDuration {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

export interface WireForwardMessageToDeadLetterQueueRequest {
  group?: WireResource;
  topic?: WireResource;
  receipt_handle?: string;
  message_id?: string;
  delivery_attempt?: number;
  max_delivery_attempts?: number;
}

export interface WireForwardMessageToDeadLetterQueueResponse {
  status: V2Status;
}
