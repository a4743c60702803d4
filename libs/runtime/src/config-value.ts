import type { ConfigField, NumberField } from './config-schema';
import { ConfigError } from './config-error';

/**
 * Parses and checks one config value. `raw` is a string when it comes from the environment or
 * the command line, and a JSON value when it comes from a file or from code (defaults, overrides).
 */
export function parseConfigValue(key: string, field: ConfigField, raw: unknown, source: string): unknown {
  const fromText = typeof raw === 'string' && field.type !== 'string' && field.type !== 'enum';
  switch (field.type) {
    case 'number':
      return checkNumber(key, field, fromText ? parseNumber(raw as string) : raw, raw, source);
    case 'boolean':
      return checkBoolean(key, fromText ? parseBoolean(raw as string) : raw, raw, source);
    case 'string':
      if (typeof raw !== 'string') throw badValue(key, raw, source, 'a string');
      return raw;
    case 'enum':
      if (typeof raw !== 'string' || !field.values.includes(raw)) {
        throw badValue(key, raw, source, `one of ${field.values.join(', ')}`);
      }
      return raw;
    case 'string-list':
      return checkStringList(key, fromText ? splitList(raw as string) : raw, raw, source);
  }
}

function parseNumber(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

function parseBoolean(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  return undefined;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function checkNumber(key: string, field: NumberField, value: unknown, raw: unknown, source: string): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!field.integer || Number.isInteger(value)) &&
    (field.min === undefined || value >= field.min) &&
    (field.max === undefined || value <= field.max);
  if (!ok) throw badValue(key, raw, source, describeNumber(field));
  return value as number;
}

function describeNumber(field: NumberField): string {
  const kind = field.integer ? 'an integer' : 'a number';
  if (field.min !== undefined && field.max !== undefined) return `${kind} from ${field.min} to ${field.max}`;
  if (field.min !== undefined) return `${kind} >= ${field.min}`;
  if (field.max !== undefined) return `${kind} <= ${field.max}`;
  return kind;
}

function checkBoolean(key: string, value: unknown, raw: unknown, source: string): boolean {
  if (typeof value !== 'boolean') throw badValue(key, raw, source, 'true or false');
  return value;
}

function checkStringList(key: string, value: unknown, raw: unknown, source: string): readonly string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw badValue(key, raw, source, 'a list of strings (comma-separated outside a file)');
  }
  return Object.freeze([...value]);
}

function badValue(key: string, raw: unknown, source: string, expected: string): ConfigError {
  const value = JSON.stringify(raw);
  return new ConfigError(`config: bad value for "${key}" from ${source}: ${value} (expected ${expected})`);
}
