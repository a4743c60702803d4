// @apogee/protocol: proto loading, the error-code registry and its mapping to the wire.
export { ApogeeError, type ApogeeErrorOptions } from './apogee-error';
export { ERROR_CODES, isErrorCode, type ErrorCode, type ErrorCodeEntry } from './error-codes';
export {
  ERROR_CODE_METADATA_KEY,
  toGrpcStatus,
  toV2Status,
  type GrpcErrorStatus,
  type V2Status,
} from './error-mapping';
export {
  checkHealth,
  createHealthClient,
  healthProtoPath,
  type CheckHealthOptions,
  type HealthClient,
  type HealthStatus,
} from './health-client';
export type { RocketMqCode } from './rocketmq-code';
export { apogeeProtoDir, loadApogeeProto, PROTO_LOADER_OPTIONS, serviceAt } from './proto-loader';
export {
  loadNameServerService,
  NAMESERVER_PROTO_FILE,
  NAMESERVER_SERVICE_NAME,
  type WireBrokerGroup,
  type WireBrokerReplica,
  type WireBrokerRole,
  type WireCluster,
  type WireEmpty,
  type WireGetClusterInfoResponse,
  type WireHeartbeatResponse,
  type WireInt64,
  type WireListTopicsResponse,
  type WireMessageQueue,
  type WireMessageType,
  type WireQueryRouteRequest,
  type WireQueryRouteResponse,
  type WireRegisterBrokerRequest,
  type WireRegisterBrokerResponse,
  type WireReplicaRef,
  type WireRouteBroker,
  type WireTopicConfig,
  type WireUnregisterBrokerResponse,
} from './nameserver-wire';
export {
  clusterInfoFromWire,
  clusterInfoToWire,
  heartbeatTimingFromWire,
  heartbeatTimingToWire,
  registrationFromWire,
  registrationToWire,
  replicaRefFromWire,
  replicaRefToWire,
  routeFromWire,
  routeToWire,
  topicConfigFromWire,
  topicConfigToWire,
  type HeartbeatTiming,
  type NameServerRegistration,
} from './nameserver-codec';
export {
  createNameServerClient,
  NAMESERVER_CLIENT_FLOW_CONTROL_WINDOW_BYTES,
  type HeartbeatRef,
  type NameServerClient,
  type NameServerClientOptions,
} from './nameserver-client';
export {
  BROKER_ADMIN_PROTO,
  BROKER_ADMIN_SERVICE,
  createBrokerAdminClient,
  loadBrokerAdminService,
  type AdminExponentialBackoff,
  type AdminGroup,
  type AdminGroupRequest,
  type AdminMessageType,
  type AdminNameRequest,
  type AdminPermission,
  type AdminQueueOffsetReset,
  type AdminResetEdge,
  type AdminResetOffsetRequest,
  type AdminResetOffsetResponse,
  type AdminRetryPolicy,
  type AdminTopic,
  type AdminTopicRequest,
  type BrokerAdminCallOptions,
  type BrokerAdminClient,
  type BrokerAdminHandlers,
  type BrokerAdminMethod,
  type BrokerAdminMethods,
} from './broker-admin';
export {
  loadMessagingService,
  MESSAGING_SERVICE_NAME,
  okV2Status,
  ROCKETMQ_CLIENT_PACKAGE,
  rocketMqProtoDir,
  v2StatusOf,
} from './rocketmq-v2';
