import { describeInProcessApp } from '@apogee/testing';
import { APP, haReplicatorConfigSchema } from './config';
import { startHaReplicator } from './start-ha-replicator';

describeInProcessApp({
  app: APP,
  schema: haReplicatorConfigSchema,
  start: startHaReplicator,
  defaults: { grpcPort: 9878, metricsPort: 19878, dataDir: './data/ha-replicator' },
  hasDataDir: true,
});
