// `npm run docs:config`: rewrites docs/config-reference.md from the apps' config schemas.
import { writeFileSync } from 'node:fs';
import { CONFIG_REFERENCE_PATH, renderConfigReference } from './config-reference';

writeFileSync(CONFIG_REFERENCE_PATH, renderConfigReference());
process.stdout.write(`wrote ${CONFIG_REFERENCE_PATH}\n`);
