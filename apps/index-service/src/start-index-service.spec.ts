import { describeInProcessApp } from '@apogee/testing';
import { APP, indexServiceConfigSchema } from './config';
import { startIndexService } from './start-index-service';

describeInProcessApp({
  app: APP,
  schema: indexServiceConfigSchema,
  start: startIndexService,
  defaults: { grpcPort: 9877, metricsPort: 19877, dataDir: './data/index-service' },
  hasDataDir: true,
});
