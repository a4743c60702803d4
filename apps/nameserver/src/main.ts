import { runService } from '@apogee/runtime';
import { APP, nameserverConfigSchema } from './config';
import { startNameserver } from './start-nameserver';

void runService({
  app: APP,
  schema: nameserverConfigSchema,
  argv: process.argv.slice(2),
  env: process.env,
  start: startNameserver,
});
