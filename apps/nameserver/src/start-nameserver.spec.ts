import { describeInProcessApp } from '@apogee/testing';
import { APP, nameserverConfigSchema } from './config';
import { startNameserver } from './start-nameserver';

describeInProcessApp({
  app: APP,
  schema: nameserverConfigSchema,
  start: startNameserver,
  defaults: { grpcPort: 9876, metricsPort: 19876 },
  hasDataDir: false,
});
