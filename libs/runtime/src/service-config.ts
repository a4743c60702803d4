import type { ConfigOf, ConfigSchema } from './config-schema';
import { LOG_LEVELS } from './logger';

export interface ServicePorts {
  grpcPort: number;
  metricsPort: number;
}

/**
 * The fields every service has: where gRPC and /metrics listen, the log level and the stop
 * grace period. Spread them into an app's schema with its default ports.
 */
export function serviceConfigFields(defaults: ServicePorts) {
  return {
    grpcHost: { type: 'string', default: '0.0.0.0', description: 'Address the gRPC server binds to.' },
    grpcPort: {
      type: 'number',
      integer: true,
      min: 0,
      max: 65535,
      default: defaults.grpcPort,
      description: 'gRPC port (0 picks a free port).',
    },
    metricsHost: { type: 'string', default: '0.0.0.0', description: 'Address the /metrics HTTP server binds to.' },
    metricsPort: {
      type: 'number',
      integer: true,
      min: 0,
      max: 65535,
      default: defaults.metricsPort,
      description: 'HTTP port for Prometheus /metrics (0 picks a free port).',
    },
    logLevel: {
      type: 'enum',
      values: LOG_LEVELS,
      default: 'info',
      envAliases: ['LOG_LEVEL'],
      description: 'Minimum log level.',
    },
    shutdownGraceMs: {
      type: 'number',
      integer: true,
      min: 0,
      default: 5_000,
      description: 'How long open gRPC calls may run after a stop signal before they are cancelled.',
    },
  } as const satisfies ConfigSchema;
}

export type ServiceConfig = ConfigOf<ReturnType<typeof serviceConfigFields>>;
