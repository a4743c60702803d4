/**
 * A typed, promise-based client of `apogee.nameserver.v1.NameServer` for brokers, the CLI and
 * the other apps. It speaks the routing model's types; the wire mapping is nameserver-codec.ts.
 *
 * Failures reject with grpc-js's ServiceError: `code` is the gRPC status (INVALID_ARGUMENT,
 * NOT_FOUND, UNAVAILABLE, DEADLINE_EXCEEDED, ...), `details` the nameserver's message, and the
 * metadata key ERROR_CODE_METADATA_KEY the stable Apogee code.
 */
import * as grpc from '@grpc/grpc-js';
import type { ClusterInfo, ReplicaRef, TopicRoute } from '@apogee/routing';
import {
  clusterInfoFromWire,
  heartbeatTimingFromWire,
  registrationToWire,
  replicaRefToWire,
  routeFromWire,
  type HeartbeatTiming,
  type NameServerRegistration,
} from './nameserver-codec';
import {
  loadNameServerService,
  type WireGetClusterInfoResponse,
  type WireHeartbeatResponse,
  type WireListTopicsResponse,
  type WireQueryRouteResponse,
  type WireRegisterBrokerResponse,
  type WireUnregisterBrokerResponse,
} from './nameserver-wire';
import { callUnary } from './unary-client';

/** HTTP/2 flow-control window of the client channel. */
export const NAMESERVER_CLIENT_FLOW_CONTROL_WINDOW_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 5_000;

export interface NameServerClientOptions {
  /** Deadline of each call; default 5 s. */
  timeoutMs?: number;
  /** More grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
}

/** A replica as Heartbeat names it: the address must be the registered one. */
export interface HeartbeatRef extends ReplicaRef {
  readonly address: string;
}

export interface NameServerClient {
  /** host:port */
  readonly address: string;
  register(registration: NameServerRegistration): Promise<HeartbeatTiming>;
  /** `reregister: true` means the nameserver does not know the replica: register again. */
  heartbeat(ref: HeartbeatRef): Promise<{ reregister: boolean }>;
  /** `removed: false` when the replica was not registered. */
  unregister(ref: ReplicaRef): Promise<{ removed: boolean }>;
  /** Rejects with NOT_FOUND when no live broker serves the topic. */
  queryRoute(topic: string): Promise<TopicRoute>;
  clusterInfo(): Promise<ClusterInfo>;
  listTopics(): Promise<string[]>;
  /** Closes the channel; calls in flight fail with CANCELLED. */
  close(): void;
}

/** Creates a plaintext client for the nameserver at host:port; close it when done. */
export function createNameServerClient(address: string, options: NameServerClientOptions = {}): NameServerClient {
  const Client = loadNameServerService();
  const client = new Client(address, grpc.credentials.createInsecure(), {
    ...options.channelOptions,
    'grpc-node.flow_control_window': NAMESERVER_CLIENT_FLOW_CONTROL_WINDOW_BYTES,
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const call = async <T>(method: string, request: object): Promise<T> =>
    ((await callUnary(client, method, request, timeoutMs)) ?? {}) as T;

  return {
    address,
    register: async (registration) =>
      heartbeatTimingFromWire(await call<WireRegisterBrokerResponse>('RegisterBroker', registrationToWire(registration))),
    heartbeat: async (ref) => {
      const response = await call<WireHeartbeatResponse>('Heartbeat', replicaRefToWire(ref));
      return { reregister: response.reregister === true };
    },
    unregister: async (ref) => {
      const response = await call<WireUnregisterBrokerResponse>('UnregisterBroker', replicaRefToWire(ref));
      return { removed: response.removed === true };
    },
    queryRoute: async (topic) => routeFromWire(await call<WireQueryRouteResponse>('QueryRoute', { topic })),
    clusterInfo: async () => clusterInfoFromWire(await call<WireGetClusterInfoResponse>('GetClusterInfo', {})),
    listTopics: async () => (await call<WireListTopicsResponse>('ListTopics', {})).topics ?? [],
    close: () => client.close(),
  };
}
