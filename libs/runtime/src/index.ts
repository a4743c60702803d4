// @apogee/runtime: what every Apogee service needs the same way.
export { systemClock, type Clock } from './clock';
export type {
  BooleanField,
  ConfigField,
  ConfigOf,
  ConfigSchema,
  EnumField,
  NumberField,
  StringField,
  StringListField,
} from './config-schema';
export { ConfigError } from './config-error';
export { defineConfigSchema, loadConfig, type Env, type LoadConfigOptions } from './config-loader';
export { envVarName, toKebabCase } from './config-names';
export { REDACTED, renderConfig, renderConfigHelp, renderConfigMarkdown } from './config-render';
export { createLogger, LOG_LEVELS, type Logger, type LoggerOptions, type LogLevel } from './logger';
export { createMetricsRegistry, METRIC_PREFIX } from './metrics-registry';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics-server';
export { advertisedAddressOf, formatHostPort } from './host-port';
export { startGrpcServer, type GrpcServer, type GrpcServerOptions, type GrpcServiceRegistration } from './grpc-server';
export { installShutdown, type Shutdown, type ShutdownOptions, type SignalSource, type StopHook } from './shutdown';
export { serviceConfigFields, type ServiceConfig, type ServicePorts } from './service-config';
export { startService, type RunningService, type StartServiceOptions } from './start-service';
export { runService, type RunServiceOptions } from './run-service';
export { unaryCall, type UnaryCallOptions, type UnaryHandler } from './unary-call';
export { RepeatingRound } from './repeating-round';
