import { defineConfigSchema, serviceConfigFields, type ConfigOf } from '@apogee/runtime';

export const APP = 'ha-replicator';

/** The ha-replicator's config: flags --grpc-port, env APOGEE_HA_REPLICATOR_GRPC_PORT, or a JSON file (--config). */
export const haReplicatorConfigSchema = defineConfigSchema({
  ...serviceConfigFields({ grpcPort: 9878, metricsPort: 19878 }),
  dataDir: {
    type: 'string',
    default: './data/ha-replicator',
    description: 'Directory for this ha-replicator\'s files; created at start.',
  },
});

export type HaReplicatorConfig = ConfigOf<typeof haReplicatorConfigSchema>;
