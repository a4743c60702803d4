import { defineConfigSchema, serviceConfigFields, type ConfigOf } from '@apogee/runtime';

export const APP = 'index-service';

/** The index-service's config: flags --grpc-port, env APOGEE_INDEX_SERVICE_GRPC_PORT, or a JSON file (--config). */
export const indexServiceConfigSchema = defineConfigSchema({
  ...serviceConfigFields({ grpcPort: 9877, metricsPort: 19877 }),
  dataDir: {
    type: 'string',
    default: './data/index-service',
    description: 'Directory for this index-service\'s files; created at start.',
  },
});

export type IndexServiceConfig = ConfigOf<typeof indexServiceConfigSchema>;
