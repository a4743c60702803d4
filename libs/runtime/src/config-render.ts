import type { ConfigField, ConfigSchema } from './config-schema';
import { envVarName, toKebabCase } from './config-names';

export const REDACTED = '[redacted]';

/** The effective config as a plain object for the start log, with secret fields redacted. */
export function renderConfig(schema: ConfigSchema, config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema)) {
    const value = config[key];
    out[key] = field.secret && value !== '' ? REDACTED : value;
  }
  return out;
}

/** `--help` text: one paragraph per field with its flag, environment variable and default. */
export function renderConfigHelp(app: string, schema: ConfigSchema): string {
  const lines = [
    `Usage: ${app} [--config file.json] [--<field> value ...]`,
    `Precedence: defaults < JSON file < environment < flags.`,
    '',
    `  --config <file.json>   (${envVarName(app, 'config')})`,
    '      A JSON object of the fields below, by their camelCase names.',
  ];
  for (const [key, field] of Object.entries(schema)) {
    const envNames = [envVarName(app, key), ...(field.envAliases ?? [])].join(', ');
    lines.push(`  --${toKebabCase(key)} <${describeType(field)}>   (${envNames})`);
    lines.push(`      ${field.description} Default: ${field.secret ? REDACTED : JSON.stringify(field.default)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The config reference of one app as Markdown (docs/config-reference.md): one table row per
 * field with its flag, environment variable, type, default and description.
 */
export function renderConfigMarkdown(app: string, schema: ConfigSchema): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `## ${app}`,
    '',
    `\`--config <file.json>\` (\`${envVarName(app, 'config')}\`): a JSON object of these fields by their camelCase names.`,
    '',
    '| field | flag | environment | type | default | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const [key, field] of Object.entries(schema)) {
    const envNames = [envVarName(app, key), ...(field.envAliases ?? [])].map((n) => `\`${n}\``).join(', ');
    const defaultValue = field.secret ? REDACTED : JSON.stringify(field.default);
    lines.push(
      `| \`${key}\` | \`--${toKebabCase(key)}\` | ${envNames} | ${cell(describeType(field))} | \`${cell(defaultValue)}\` | ${cell(field.description)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function describeType(field: ConfigField): string {
  switch (field.type) {
    case 'number': {
      const range = field.min !== undefined || field.max !== undefined ? ` ${field.min ?? ''}..${field.max ?? ''}` : '';
      return `${field.integer ? 'integer' : 'number'}${range}`;
    }
    case 'enum':
      return field.values.join('|');
    case 'string-list':
      return 'a,b,...';
    default:
      return field.type;
  }
}
