import { defineConfigSchema, serviceConfigFields, type ConfigOf } from '@apogee/runtime';

export const APP = 'broker';

/** The broker's config: flags --grpc-port, env APOGEE_BROKER_GRPC_PORT, or a JSON file (--config). */
export const brokerConfigSchema = defineConfigSchema({
  ...serviceConfigFields({ grpcPort: 8081, metricsPort: 18081 }),
  dataDir: {
    type: 'string',
    default: './data/broker',
    description: 'Directory for this broker\'s files; created at start.',
  },
});

export type BrokerConfig = ConfigOf<typeof brokerConfigSchema>;
