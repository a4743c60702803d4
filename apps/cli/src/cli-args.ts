/**
 * Command-line parsing with node:util parseArgs (strict: unknown options and missing values are
 * usage errors), plus the value parsers every command shares. Every parser throws UsageError
 * with a message that names the option, the bad value and what is allowed.
 */
import { parseArgs } from 'node:util';
import { parseBrokerAddress, RoutingError, validateClusterName } from '@apogee/routing';
import { UsageError } from './cli-error';

export const DEFAULT_NAMESERVER = '127.0.0.1:9876';
/** Read when --nameserver is not given (RocketMQ's mqadmin reads NAMESRV_ADDR the same way). */
export const NAMESERVER_ENV = 'APOGEE_NAMESERVER';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder in help: --queues N. */
  readonly value?: string;
  readonly description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Options every command takes. */
export const COMMON_OPTIONS: OptionSpecs = {
  nameserver: {
    type: 'string',
    value: 'HOST:PORT',
    description: `nameserver gRPC address (default ${DEFAULT_NAMESERVER}, or $${NAMESERVER_ENV})`,
  },
  json: { type: 'boolean', description: 'print one JSON document instead of a table' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** Parses a command's arguments (after `apogee <noun> <verb>`) against its options and the common ones. */
export function parseCommandArgs(argv: readonly string[], options: OptionSpecs): ParsedArgs {
  const config = Object.fromEntries(
    Object.entries({ ...COMMON_OPTIONS, ...options }).map(([name, spec]) => [
      name,
      spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    // node:util's errors come from another realm under jest: read `message`, not instanceof.
    const message = (err as { message?: unknown } | undefined)?.message;
    throw new UsageError(firstSentence(typeof message === 'string' ? message : String(err)));
  }
}

/** Exactly the named positional arguments, e.g. ['topic']. */
export function expectPositionals(args: ParsedArgs, names: readonly string[]): string[] {
  const { positionals } = args;
  if (positionals.length < names.length) {
    throw new UsageError(`missing <${names[positionals.length]}>`);
  }
  if (positionals.length > names.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[names.length])}`);
  }
  return [...positionals];
}

/** The nameserver address: --nameserver, else $APOGEE_NAMESERVER, else 127.0.0.1:9876; checked as host:port. */
export function nameserverOf(args: ParsedArgs, env: Readonly<Record<string, string | undefined>> = {}): string {
  const given = stringOption(args, 'nameserver');
  const address = given ?? (env[NAMESERVER_ENV] || DEFAULT_NAMESERVER);
  try {
    parseBrokerAddress(address);
  } catch (err) {
    const source = given === undefined ? `$${NAMESERVER_ENV}` : '--nameserver';
    throw new UsageError(`${source}: ${routingMessage(err)}`);
  }
  return address;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** An integer option within [min, max]; undefined when absent. */
export function integerOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const value = /^[0-9]+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
    throw new UsageError(`--${name} ${JSON.stringify(raw)} is invalid; allowed: ${range}`);
  }
  return value;
}

/** `true` or `false` (also yes/no, 1/0); undefined when absent. */
export function booleanOption(args: ParsedArgs, name: string): boolean | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  if (['true', 'yes', '1'].includes(value)) return true;
  if (['false', 'no', '0'].includes(value)) return false;
  throw new UsageError(`--${name} ${JSON.stringify(raw)} is invalid; allowed: true or false`);
}

/** One of `choices`, case-insensitive; undefined when absent. */
export function choiceOption<T extends string>(args: ParsedArgs, name: string, choices: readonly T[]): T | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const match = choices.find((choice) => choice === raw.trim().toUpperCase());
  if (match === undefined) {
    throw new UsageError(`--${name} ${JSON.stringify(raw)} is invalid; allowed: ${choices.join(', ')}`);
  }
  return match;
}

/** Runs a routing-lib name check; its RoutingError becomes a usage error with the same message. */
export function checkName(check: (name: string) => void, name: string): string {
  try {
    check(name);
  } catch (err) {
    throw new UsageError(routingMessage(err));
  }
  return name;
}

/** --cluster C, checked as a cluster name; undefined when not given. */
export function clusterOption(args: ParsedArgs): string | undefined {
  const cluster = stringOption(args, 'cluster');
  return cluster === undefined ? undefined : checkName(validateClusterName, cluster);
}

function routingMessage(err: unknown): string {
  if (err instanceof RoutingError) return err.message;
  throw err;
}

function firstSentence(message: string): string {
  const end = message.search(/\.\s/);
  return end < 0 ? message : message.slice(0, end);
}
