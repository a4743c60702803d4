import { ConfigError, defineConfigSchema, serviceConfigFields, type ConfigOf } from '@apogee/runtime';
import type { HeartbeatTiming } from '@apogee/protocol';

export const APP = 'nameserver';

/** Brokers are told to heartbeat this many times per eviction window (120 s → every 30 s). */
export const HEARTBEATS_PER_EVICTION_WINDOW = 4;

/** The nameserver's config: flags --grpc-port, env APOGEE_NAMESERVER_GRPC_PORT, or a JSON file (--config). */
export const nameserverConfigSchema = defineConfigSchema({
  ...serviceConfigFields({ grpcPort: 9876, metricsPort: 19876 }),
  evictionWindowMs: {
    type: 'number',
    integer: true,
    min: 100,
    max: 3_600_000,
    default: 120_000,
    description:
      'A broker replica silent for longer than this is dropped from routes; ' +
      `brokers are told to heartbeat ${HEARTBEATS_PER_EVICTION_WINDOW} times per window.`,
  },
  evictionCheckIntervalMs: {
    type: 'number',
    integer: true,
    min: 10,
    max: 600_000,
    default: 5_000,
    description: 'How often silent brokers are looked for; at most evictionWindowMs.',
  },
});

export type NameserverConfig = ConfigOf<typeof nameserverConfigSchema>;

/** Checks what the schema's per-field bounds cannot: how fields relate. */
export function validateNameserverConfig(config: NameserverConfig): void {
  if (config.evictionCheckIntervalMs > config.evictionWindowMs) {
    throw new ConfigError(
      `config: evictionCheckIntervalMs (${config.evictionCheckIntervalMs}) is longer than evictionWindowMs ` +
        `(${config.evictionWindowMs}); silent brokers would stay in routes for up to a whole check interval ` +
        'past the window. Lower evictionCheckIntervalMs or raise evictionWindowMs',
    );
  }
}

/** What RegisterBroker tells brokers. */
export function heartbeatTimingOf(config: NameserverConfig): HeartbeatTiming {
  return {
    heartbeatIntervalMs: Math.floor(config.evictionWindowMs / HEARTBEATS_PER_EVICTION_WINDOW),
    evictionWindowMs: config.evictionWindowMs,
  };
}
