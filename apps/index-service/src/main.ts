import { runService } from '@apogee/runtime';
import { APP, indexServiceConfigSchema } from './config';
import { startIndexService } from './start-index-service';

void runService({
  app: APP,
  schema: indexServiceConfigSchema,
  argv: process.argv.slice(2),
  env: process.env,
  start: startIndexService,
});
