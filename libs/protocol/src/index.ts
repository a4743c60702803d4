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
