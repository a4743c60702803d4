import type { ConfigSchema } from './config-schema';
import { ConfigError } from './config-error';
import { toCamelCase, toKebabCase } from './config-names';

export interface RawSetting {
  key: string;
  raw: string;
  source: string;
}

export interface ParsedArgs {
  configFile?: string;
  help: boolean;
  settings: RawSetting[];
}

/**
 * Reads command-line flags: `--grpc-port 8081`, `--grpc-port=8081`, `--grpcPort=8081`,
 * `--config path`, `--help`; a boolean flag alone (`--sync-flush`) means true.
 * Unknown flags and stray arguments are errors.
 */
export function parseConfigArgs(schema: ConfigSchema, argv: readonly string[]): ParsedArgs {
  const result: ParsedArgs = { help: false, settings: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      result.help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      throw new ConfigError(`config: unexpected argument ${JSON.stringify(arg)} (flags look like --grpc-port 8081)`);
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value = eq === -1 ? undefined : arg.slice(eq + 1);
    const next = argv[i + 1];
    const key = toCamelCase(name);
    if (key === 'config') {
      if (value === undefined) value = takeValue(arg, next, () => i++);
      result.configFile = value;
      continue;
    }
    const field = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (!field) throw new ConfigError(`config: unknown flag --${name} (known: ${knownFlags(schema)})`);
    if (value === undefined && field.type === 'boolean') {
      const takesNext = next === 'true' || next === 'false';
      value = takesNext ? next : 'true';
      if (takesNext) i++;
    } else if (value === undefined) {
      value = takeValue(arg, next, () => i++);
    }
    result.settings.push({ key, raw: value, source: `flag --${name}` });
  }
  return result;
}

function takeValue(flag: string, next: string | undefined, consume: () => void): string {
  if (next === undefined || next.startsWith('--')) throw new ConfigError(`config: flag ${flag} needs a value`);
  consume();
  return next;
}

function knownFlags(schema: ConfigSchema): string {
  return ['--config', ...Object.keys(schema).map((k) => `--${toKebabCase(k)}`)].join(', ');
}
