import { readFileSync } from 'node:fs';
import type { ConfigOf, ConfigSchema } from './config-schema';
import { ConfigError } from './config-error';
import { parseConfigArgs } from './config-args';
import { envVarName } from './config-names';
import { parseConfigValue } from './config-value';

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** The app name; it forms the environment prefix APOGEE_<APP>_. */
  app: string;
  /** Command-line arguments without node and the script (process.argv.slice(2)). */
  argv?: readonly string[];
  /** Usually process.env; libraries never read it themselves. */
  env?: Env;
  /** Values set from code (tests), applied last; checked like file values. */
  overrides?: Readonly<Record<string, unknown>>;
  readFile?: (path: string) => string;
}

/**
 * Declares a schema, checking that every default is valid. `const` keeps literal types so that
 * enum fields type as their union of values.
 */
export function defineConfigSchema<const S extends ConfigSchema>(schema: S): S {
  if (Object.hasOwn(schema, 'config')) throw new Error('config schema: "config" is reserved for --config');
  for (const [key, field] of Object.entries(schema)) parseConfigValue(key, field, field.default, 'default');
  return schema;
}

/**
 * Builds the effective config: defaults < JSON file (--config or APOGEE_<APP>_CONFIG)
 * < environment (APOGEE_<APP>_<FIELD>, then the field's aliases) < flags < overrides.
 * Unknown keys in the file, flags or overrides are rejected. Returns a frozen object.
 */
export function loadConfig<S extends ConfigSchema>(schema: S, options: LoadConfigOptions): ConfigOf<S> {
  const env = options.env ?? {};
  const args = parseConfigArgs(schema, options.argv ?? []);
  const values: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema)) {
    values[key] = parseConfigValue(key, field, field.default, 'default');
  }

  const file = args.configFile ?? nonEmpty(env[envVarName(options.app, 'config')]);
  if (file !== undefined) {
    const content = readConfigFile(file, options.readFile ?? ((p) => readFileSync(p, 'utf8')));
    applyObject(schema, values, content, `file ${file}`);
  }
  for (const [key, field] of Object.entries(schema)) {
    for (const name of [envVarName(options.app, key), ...(field.envAliases ?? [])]) {
      const raw = nonEmpty(env[name]);
      if (raw === undefined) continue;
      values[key] = parseConfigValue(key, field, raw, `environment ${name}`);
      break;
    }
  }
  for (const { key, raw, source } of args.settings) values[key] = parseConfigValue(key, schema[key], raw, source);
  if (options.overrides) applyObject(schema, values, options.overrides, 'overrides');
  return Object.freeze(values) as ConfigOf<S>;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function readConfigFile(path: string, read: (p: string) => string): Record<string, unknown> {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    throw new ConfigError(`config: cannot read file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config: file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config: file ${path} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function applyObject(
  schema: ConfigSchema,
  values: Record<string, unknown>,
  input: Readonly<Record<string, unknown>>,
  source: string,
): void {
  for (const [key, raw] of Object.entries(input)) {
    if (!Object.hasOwn(schema, key)) {
      throw new ConfigError(`config: unknown key "${key}" in ${source} (known: ${Object.keys(schema).join(', ')})`);
    }
    values[key] = parseConfigValue(key, schema[key], raw, source);
  }
}
