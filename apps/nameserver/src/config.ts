import { defineConfigSchema, serviceConfigFields, type ConfigOf } from '@apogee/runtime';

export const APP = 'nameserver';

/** The nameserver's config: flags --grpc-port, env APOGEE_NAMESERVER_GRPC_PORT, or a JSON file (--config). */
export const nameserverConfigSchema = defineConfigSchema({
  ...serviceConfigFields({ grpcPort: 9876, metricsPort: 19876 }),
});

export type NameserverConfig = ConfigOf<typeof nameserverConfigSchema>;
