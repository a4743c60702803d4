import { defineConfigSchema, serviceConfigFields, type ConfigOf } from '@apogee/runtime';

export const APP = 'broker';

const MiB = 1024 * 1024;

/** The broker's config: flags --grpc-port, env APOGEE_BROKER_GRPC_PORT, or a JSON file (--config). */
export const brokerConfigSchema = defineConfigSchema({
  ...serviceConfigFields({ grpcPort: 8081, metricsPort: 18081 }),
  dataDir: {
    type: 'string',
    default: './data/broker',
    description: "Directory for this broker's files (messages in <dataDir>/store, topics and groups in <dataDir>/meta); created at start.",
  },
  flushMode: {
    type: 'enum',
    values: ['ASYNC', 'SYNC'] as const,
    default: 'ASYNC',
    description: 'ASYNC: acknowledge a send once written, fdatasync on an interval; SYNC: acknowledge after fdatasync (group commit).',
  },
  flushIntervalMs: { type: 'number', integer: true, min: 1, default: 500, description: 'ASYNC: fdatasync at least this often.' },
  segmentBytes: {
    type: 'number',
    integer: true,
    min: 8 * MiB,
    default: 1024 * MiB,
    description: 'Size of one commit-log segment file.',
  },
  maxBodyBytes: {
    type: 'number',
    integer: true,
    min: 1,
    max: 64 * MiB,
    default: 4 * MiB,
    description: 'Largest message body accepted.',
  },
  retentionHours: { type: 'number', min: 0.001, default: 72, description: 'Commit-log segments older than this are deleted.' },
  diskHighWatermark: {
    type: 'number',
    min: 0.01,
    max: 1,
    default: 0.85,
    description: 'Disk use (0-1) above which the oldest segments are deleted before they expire.',
  },
  diskCriticalWatermark: {
    type: 'number',
    min: 0.01,
    max: 1,
    default: 0.95,
    description: 'Disk use (0-1) above which sends are refused (disk full).',
  },
  autoCreateTopics: {
    type: 'boolean',
    default: false,
    description: 'Create an unknown topic on its first send (8 queues, the message type of that send); off: TOPIC_NOT_FOUND.',
  },
  autoCreateGroups: {
    type: 'boolean',
    default: false,
    description: 'Create an unknown consumer group, with the defaults, for its first consumer; off: CONSUMER_GROUP_NOT_FOUND.',
  },
});

export type BrokerConfig = ConfigOf<typeof brokerConfigSchema>;
