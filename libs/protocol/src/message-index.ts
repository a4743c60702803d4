/**
 * apogee.index.v1.MessageIndex (proto/apogee/index/v1/index.proto): the wire shapes as
 * PROTO_LOADER_OPTIONS decode them (snake_case, int64 as decimal strings, bytes as Buffer), the
 * service loader for the index-service, and a promise-based client for the CLI and tests.
 *
 * Decoded messages carry no defaults: a field the sender left unset is absent, so every field is
 * optional here. Failures reject with the grpc-js ServiceError (code, details, and the Apogee code
 * in the `apogee-error-code` trailer).
 */
import * as grpc from '@grpc/grpc-js';
import { loadApogeeService } from './proto-loader';
import { callUnary } from './unary-client';

export const MESSAGE_INDEX_PROTO = 'apogee/index/v1/index.proto';
export const MESSAGE_INDEX_SERVICE = 'apogee.index.v1.MessageIndex';

/** int64 fields: decoded as decimal strings; numbers are accepted when encoding. */
type Int64 = string | number;

export interface IndexQueryByKeyRequest {
  topic?: string;
  key?: string;
  /** Inclusive store-time bounds in epoch ms; 0 or absent = open. */
  from_ms?: Int64;
  to_ms?: Int64;
  limit?: number;
  cursor?: string;
}

export interface IndexGetByIdRequest {
  message_id?: string;
  topic?: string;
}

export interface IndexQueryByTimeRequest {
  topic?: string;
  from_ms?: Int64;
  to_ms?: Int64;
  limit?: number;
  cursor?: string;
}

export interface IndexFoundMessage {
  broker_name?: string;
  topic?: string;
  queue_id?: number;
  queue_offset?: Int64;
  physical_offset?: Int64;
  message_id?: string;
  keys?: string[];
  tag?: string;
  properties?: Record<string, string>;
  body?: Buffer;
  born_timestamp_ms?: Int64;
  store_timestamp_ms?: Int64;
  born_host?: string;
  store_host?: string;
}

export interface IndexQueryResponse {
  messages?: IndexFoundMessage[];
  /** Empty or absent when there is nothing more. */
  next_cursor?: string;
}

export interface IndexFollowedBroker {
  broker_name?: string;
  address?: string;
  indexed_offset?: Int64;
  max_offset?: Int64;
  indexed_store_timestamp_ms?: Int64;
  connected?: boolean;
  last_error?: string;
}

export interface IndexStatusResponse {
  brokers?: IndexFollowedBroker[];
  indexed_entries?: Int64;
}

/** Every MessageIndex RPC: [request, response]. */
export interface MessageIndexMethods {
  QueryByKey: [IndexQueryByKeyRequest, IndexQueryResponse];
  GetById: [IndexGetByIdRequest, IndexQueryResponse];
  QueryByTime: [IndexQueryByTimeRequest, IndexQueryResponse];
  IndexStatus: [Record<string, never>, IndexStatusResponse];
}

export type MessageIndexMethod = keyof MessageIndexMethods;

/** What the index-service implements: one async function per RPC; a throw becomes the gRPC error. */
export type MessageIndexHandlers = {
  [M in MessageIndexMethod]: (request: MessageIndexMethods[M][0]) => Promise<MessageIndexMethods[M][1]>;
};

/** The MessageIndex service constructor (its `.service` is the definition a server adds); loaded once per proto dir. */
export function loadMessageIndexService(dir?: string): grpc.ServiceClientConstructor {
  return loadApogeeService(MESSAGE_INDEX_PROTO, MESSAGE_INDEX_SERVICE, dir);
}

export interface MessageIndexClientOptions {
  /** Deadline of each call; default 10,000 ms (a query fetches bodies from brokers). */
  timeoutMs?: number;
}

export interface MessageIndexClient {
  /** host:port */
  readonly address: string;
  queryByKey(request: IndexQueryByKeyRequest): Promise<IndexQueryResponse>;
  getById(request: IndexGetByIdRequest): Promise<IndexQueryResponse>;
  queryByTime(request: IndexQueryByTimeRequest): Promise<IndexQueryResponse>;
  indexStatus(): Promise<IndexStatusResponse>;
  close(): void;
}

/** An insecure MessageIndex client for host:port. Close it with client.close(). */
export function createMessageIndexClient(address: string, options: MessageIndexClientOptions = {}): MessageIndexClient {
  const Service = loadMessageIndexService();
  const raw = new Service(address, grpc.credentials.createInsecure());
  const timeoutMs = options.timeoutMs ?? 10_000;
  const call = async <M extends MessageIndexMethod>(method: M, request: MessageIndexMethods[M][0]): Promise<MessageIndexMethods[M][1]> =>
    ((await callUnary(raw, method, request, timeoutMs)) ?? {}) as MessageIndexMethods[M][1];
  return {
    address,
    queryByKey: (request) => call('QueryByKey', request),
    getById: (request) => call('GetById', request),
    queryByTime: (request) => call('QueryByTime', request),
    indexStatus: () => call('IndexStatus', {}),
    close: () => raw.close(),
  };
}
