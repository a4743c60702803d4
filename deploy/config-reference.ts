/**
 * docs/config-reference.md, generated from every app's config schema (renderConfigMarkdown):
 * `npm run docs:config` writes it, deploy/config-reference.spec.ts fails when it is stale.
 */
import { renderConfigMarkdown } from '@apogee/runtime';
import { APP as BROKER, brokerConfigSchema } from '../apps/broker/src/config';
import { APP as HA_REPLICATOR, haReplicatorConfigSchema } from '../apps/ha-replicator/src/config';
import { APP as INDEX_SERVICE, indexServiceConfigSchema } from '../apps/index-service/src/config';
import { APP as NAMESERVER, nameserverConfigSchema } from '../apps/nameserver/src/config';

export const CONFIG_REFERENCE_PATH = 'docs/config-reference.md';

export function renderConfigReference(): string {
  const header = [
    '# Configuration reference',
    '',
    '<!-- Generated from the apps\' config schemas by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Every app takes its settings from, in increasing precedence: the defaults below, a JSON file',
    '(`--config file.json`), environment variables, and command-line flags. `LOG_LEVEL` also sets',
    '`logLevel`. `node dist/apps/<app>/main.js --help` prints the same list.',
    '',
  ].join('\n');
  const apps: Array<[string, Parameters<typeof renderConfigMarkdown>[1]]> = [
    [NAMESERVER, nameserverConfigSchema],
    [BROKER, brokerConfigSchema],
    [INDEX_SERVICE, indexServiceConfigSchema],
    [HA_REPLICATOR, haReplicatorConfigSchema],
  ];
  return `${header}\n${apps.map(([app, schema]) => renderConfigMarkdown(app, schema)).join('\n')}`;
}
