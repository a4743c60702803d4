import { runService } from '@apogee/runtime';
import { APP, brokerConfigSchema } from './config';
import { startBroker } from './start-broker';

void runService({
  app: APP,
  schema: brokerConfigSchema,
  argv: process.argv.slice(2),
  env: process.env,
  start: startBroker,
});
