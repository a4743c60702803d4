import { runService } from '@apogee/runtime';
import { APP, haReplicatorConfigSchema } from './config';
import { startHaReplicator } from './start-ha-replicator';

void runService({
  app: APP,
  schema: haReplicatorConfigSchema,
  argv: process.argv.slice(2),
  env: process.env,
  start: startHaReplicator,
});
