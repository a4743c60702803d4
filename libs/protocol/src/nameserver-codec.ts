/**
 * Conversions between the routing model (@apogee/routing) and the NameServer wire shapes
 * (nameserver-wire.ts), in pairs: the client uses one direction, the nameserver the other.
 *
 * Decoding never validates: absent fields become their proto3 defaults ('' and 0, and
 * MESSAGE_TYPE_UNSPECIFIED for a topic's type) so that the routing model's own checks reject
 * them with a message that says what to fix.
 */
import type { BrokerRegistration, BrokerRole, ClusterInfo, MessageType, ReplicaRef, TopicConfig, TopicRoute } from '@apogee/routing';
import type {
  WireBrokerRole,
  WireGetClusterInfoResponse,
  WireMessageType,
  WireQueryRouteResponse,
  WireRegisterBrokerRequest,
  WireRegisterBrokerResponse,
  WireReplicaRef,
  WireTopicConfig,
} from './nameserver-wire';
import { int64FromWire } from './nameserver-wire';

/** A broker's registration; `role`, when given, must agree with the broker id. */
export interface NameServerRegistration extends BrokerRegistration {
  readonly role?: BrokerRole;
}

/** What a registered broker is told: how often to heartbeat, and when it would be dropped. */
export interface HeartbeatTiming {
  readonly heartbeatIntervalMs: number;
  readonly evictionWindowMs: number;
}

export function registrationToWire(registration: NameServerRegistration): WireRegisterBrokerRequest {
  const wire: WireRegisterBrokerRequest = {
    cluster_name: registration.clusterName,
    broker_name: registration.brokerName,
    broker_id: registration.brokerId,
    address: registration.address,
    role: registration.role ?? 'BROKER_ROLE_UNSPECIFIED',
    topics: registration.topics.map(topicConfigToWire),
  };
  if (registration.brokerPermission !== undefined) wire.broker_permission = registration.brokerPermission;
  return wire;
}

export function registrationFromWire(wire: WireRegisterBrokerRequest): NameServerRegistration {
  return {
    clusterName: wire.cluster_name ?? '',
    brokerName: wire.broker_name ?? '',
    brokerId: wire.broker_id ?? 0,
    address: wire.address ?? '',
    role: roleFromWire(wire.role),
    topics: (wire.topics ?? []).map(topicConfigFromWire),
    brokerPermission: wire.broker_permission,
  };
}

export function topicConfigToWire(config: TopicConfig): WireTopicConfig {
  return {
    name: config.name,
    read_queue_count: config.readQueueCount,
    write_queue_count: config.writeQueueCount,
    permission: config.permission,
    message_type: config.messageType,
  };
}

export function topicConfigFromWire(wire: WireTopicConfig): TopicConfig {
  return {
    name: wire.name ?? '',
    readQueueCount: wire.read_queue_count ?? 0,
    writeQueueCount: wire.write_queue_count ?? 0,
    permission: wire.permission ?? 0,
    // Left for validateTopicConfig to refuse, naming the allowed types.
    messageType: (wire.message_type ?? 'MESSAGE_TYPE_UNSPECIFIED') as MessageType,
  };
}

export function replicaRefToWire(ref: ReplicaRef): WireReplicaRef {
  return { broker_name: ref.brokerName, broker_id: ref.brokerId, address: ref.address ?? '' };
}

/** An empty address becomes undefined (any address matches). */
export function replicaRefFromWire(wire: WireReplicaRef): ReplicaRef {
  const ref = { brokerName: wire.broker_name ?? '', brokerId: wire.broker_id ?? 0 };
  return wire.address ? { ...ref, address: wire.address } : ref;
}

export function heartbeatTimingToWire(timing: HeartbeatTiming): WireRegisterBrokerResponse {
  return { heartbeat_interval_ms: timing.heartbeatIntervalMs, eviction_window_ms: timing.evictionWindowMs };
}

export function heartbeatTimingFromWire(wire: WireRegisterBrokerResponse): HeartbeatTiming {
  return {
    heartbeatIntervalMs: int64FromWire(wire.heartbeat_interval_ms),
    evictionWindowMs: int64FromWire(wire.eviction_window_ms),
  };
}

export function routeToWire(route: TopicRoute): WireQueryRouteResponse {
  return {
    topic: route.topic,
    queues: route.queues.map((q) => ({
      broker_name: q.brokerName,
      queue_id: q.queueId,
      permission: q.permission,
      accept_message_types: [...q.acceptMessageTypes],
    })),
    brokers: route.brokers.map((b) => ({ broker_name: b.brokerName, broker_id: b.brokerId, address: b.address })),
  };
}

export function routeFromWire(wire: WireQueryRouteResponse): TopicRoute {
  const topic = wire.topic ?? '';
  return {
    topic,
    queues: (wire.queues ?? []).map((q) => ({
      topic,
      brokerName: q.broker_name ?? '',
      queueId: q.queue_id ?? 0,
      permission: q.permission ?? 0,
      acceptMessageTypes: (q.accept_message_types ?? []).filter(isKnownType),
    })),
    brokers: (wire.brokers ?? []).map((b) => ({
      brokerName: b.broker_name ?? '',
      brokerId: b.broker_id ?? 0,
      address: b.address ?? '',
    })),
  };
}

export function clusterInfoToWire(info: ClusterInfo): WireGetClusterInfoResponse {
  const groups = new Map(info.brokers.map((group) => [group.brokerName, group]));
  return {
    clusters: info.clusters.map(({ clusterName, brokerNames }) => ({
      cluster_name: clusterName,
      broker_groups: brokerNames.map((brokerName) => ({
        broker_name: brokerName,
        replicas: (groups.get(brokerName)?.replicas ?? []).map((r) => ({
          broker_id: r.brokerId,
          address: r.address,
          role: r.role,
          last_heartbeat_ms: r.lastHeartbeatMs,
        })),
      })),
    })),
  };
}

/** Back to the routing model's shape: clusters with broker names, and every group sorted by name. */
export function clusterInfoFromWire(wire: WireGetClusterInfoResponse): ClusterInfo {
  const clusters = (wire.clusters ?? []).map((c) => ({
    clusterName: c.cluster_name ?? '',
    groups: (c.broker_groups ?? []).map((g) => ({
      clusterName: c.cluster_name ?? '',
      brokerName: g.broker_name ?? '',
      replicas: (g.replicas ?? []).map((r) => ({
        brokerId: r.broker_id ?? 0,
        address: r.address ?? '',
        role: roleFromWire(r.role) ?? (r.broker_id ? 'SLAVE' : 'MASTER'),
        lastHeartbeatMs: int64FromWire(r.last_heartbeat_ms),
      })),
    })),
  }));
  const brokers = clusters.flatMap((c) => c.groups);
  brokers.sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
  return {
    clusters: clusters.map((c) => ({ clusterName: c.clusterName, brokerNames: c.groups.map((g) => g.brokerName) })),
    brokers,
  };
}

function roleFromWire(role: WireBrokerRole | undefined): BrokerRole | undefined {
  return role === 'MASTER' || role === 'SLAVE' ? role : undefined;
}

function isKnownType(type: WireMessageType): type is MessageType {
  return type !== 'MESSAGE_TYPE_UNSPECIFIED';
}
