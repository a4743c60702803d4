import { defineConfigSchema, serviceConfigFields, type ConfigOf } from '@apogee/runtime';

export const APP = 'index-service';

/** The index-service's config: flags --grpc-port, env APOGEE_INDEX_SERVICE_GRPC_PORT, or a JSON file (--config). */
export const indexServiceConfigSchema = defineConfigSchema({
  ...serviceConfigFields({ grpcPort: 9877, metricsPort: 19877 }),
  dataDir: {
    type: 'string',
    default: './data/index-service',
    description: "Directory for this index-service's files (key index in <dataDir>/key-index, checkpoint in <dataDir>/meta); created at start.",
  },
  nameservers: {
    type: 'string-list',
    default: ['127.0.0.1:9876'],
    description: 'Nameservers (host:port) to learn the brokers from; every master broker they list is followed.',
  },
  discoveryIntervalMs: {
    type: 'number',
    integer: true,
    min: 10,
    default: 10_000,
    description: 'Ask the nameservers for the cluster\'s brokers this often (new brokers, changed addresses).',
  },
  checkpointIntervalMs: {
    type: 'number',
    integer: true,
    min: 1,
    default: 200,
    description: 'Flush the key index and store the checkpoint (index entries + per-broker stream positions) this often.',
  },
  maxUnflushedEntries: {
    type: 'number',
    integer: true,
    min: 1,
    default: 200_000,
    description: 'Index entries appended but not yet checkpointed above which the streams pause until a checkpoint lands.',
  },
  followBatchEntries: { type: 'number', integer: true, min: 1, max: 8192, default: 1024, description: 'Most entries per Follow batch.' },
  followHeartbeatMs: {
    type: 'number',
    integer: true,
    min: 10,
    default: 1_000,
    description: 'A caught-up Follow stream sends an empty batch at least this often; silence for 5× this reconnects.',
  },
  reconnectMinMs: { type: 'number', integer: true, min: 1, default: 200, description: 'First back-off after a broker or stream failure.' },
  reconnectMaxMs: { type: 'number', integer: true, min: 1, default: 10_000, description: 'Longest back-off between reconnects (doubles from reconnectMinMs).' },
  brokerTimeoutMs: { type: 'number', integer: true, min: 1, default: 5_000, description: 'Deadline of each unary call to a broker or nameserver.' },
  retentionIntervalMs: {
    type: 'number',
    integer: true,
    min: 10,
    default: 60_000,
    description: 'Retire index files whose entries all point below every broker\'s oldest retained message this often.',
  },
  keyIndexSlotCount: { type: 'number', integer: true, min: 1, default: 4_194_304, description: 'Hash slots per key-index file (new files only).' },
  keyIndexEntriesPerFile: {
    type: 'number',
    integer: true,
    min: 1,
    default: 4_194_304,
    description: 'Entries per key-index file before it rolls (new files only).',
  },
});

export type IndexServiceConfig = ConfigOf<typeof indexServiceConfigSchema>;
