/**
 * BrokerAdmin.GetConfig / SetConfig (RocketMQ's getBrokerConfig / updateBrokerConfig): the
 * broker's effective config, secret fields redacted, and in-memory changes of the few fields that
 * can change while it runs. A change is not written to the config file: a restart goes back to the
 * file, environment and flags. Every other field answers FAILED_PRECONDITION "needs a restart".
 *
 * Which fields are run-time fields is up to the broker's wiring (`runtime`: a field and the
 * function that applies a new value to the components that read it); without any, every field
 * needs a restart. Without config access at all (`access` undefined) both RPCs answer UNIMPLEMENTED.
 */
import { ApogeeError, type BrokerAdminHandlers, type BrokerAdminMethods } from '@apogee/protocol';
import { ConfigError, envVarName, REDACTED, toKebabCase, type ConfigField, type Logger } from '@apogee/runtime';
import { APP, brokerConfigSchema, validateBrokerConfig, type BrokerConfig } from '../config';

type ConfigHandlers = Pick<BrokerAdminHandlers, 'GetConfig' | 'SetConfig'>;
type ConfigEntry = NonNullable<BrokerAdminMethods['SetConfig'][1]['entry']>;
export type BrokerConfigKey = keyof BrokerConfig & string;

/** What GetConfig and SetConfig work on. */
export interface BrokerConfigAccess {
  /** The config the broker was started with. */
  readonly config: BrokerConfig;
  /**
   * The fields that can safely change while the broker runs, each with the function that applies
   * a new (already checked) value; it may throw ApogeeError to refuse it.
   */
  readonly runtime?: { readonly [K in BrokerConfigKey]?: (value: BrokerConfig[K]) => void | Promise<void> };
}

/** Field names that are secret even if their schema entry does not say so. */
const SECRET_NAME = /password|secret|token|credential|access.?key|private.?key/i;

export function configAdminHandlers(access: BrokerConfigAccess | undefined, logger: Logger): ConfigHandlers {
  if (access === undefined) {
    const refuse = async (): Promise<never> => {
      throw new ApogeeError('NOT_IMPLEMENTED', 'This broker was started without access to its config; GetConfig and SetConfig are not available');
    };
    return { GetConfig: refuse, SetConfig: refuse };
  }
  const changed: Partial<Record<BrokerConfigKey, unknown>> = {};
  const current = (): BrokerConfig => ({ ...access.config, ...changed }) as BrokerConfig;
  const entryOf = (key: BrokerConfigKey, config: BrokerConfig): ConfigEntry => configEntry(key, config, access.runtime?.[key] !== undefined);
  let writing: Promise<unknown> = Promise.resolve();
  return {
    GetConfig: async () => {
      const config = current();
      return { entries: configKeys().map((key) => entryOf(key, config)) };
    },
    SetConfig: (request) => {
      // one change at a time, so that two changes of one field apply in the order they came
      const next = writing.then(async () => {
        const key = checkedKey(request.key ?? '');
        const apply = access.runtime?.[key] as ((value: unknown) => void | Promise<void>) | undefined;
        if (apply === undefined) throw needsRestart(key, access);
        const value = parseValue(key, brokerConfigSchema[key], request.value ?? '');
        const before = current();
        const after = { ...before, [key]: value } as BrokerConfig;
        try {
          validateBrokerConfig(after);
        } catch (err) {
          if (err instanceof ConfigError) throw new ApogeeError('BAD_REQUEST', err.message);
          throw err;
        }
        await apply(value);
        changed[key] = value;
        logger.info({ key, old: entryOf(key, before).value_json, new: entryOf(key, after).value_json }, 'config changed at run time (until restart)');
        return { old_entry: entryOf(key, before), entry: entryOf(key, after) };
      });
      writing = next.catch(() => undefined);
      return next;
    },
  };
}

function configKeys(): BrokerConfigKey[] {
  return Object.keys(brokerConfigSchema) as BrokerConfigKey[];
}

function isSecret(key: string, field: ConfigField): boolean {
  return field.secret === true || SECRET_NAME.test(key);
}

export function configEntry(key: BrokerConfigKey, config: BrokerConfig, runtime: boolean): ConfigEntry {
  const field: ConfigField = brokerConfigSchema[key];
  const value = config[key];
  const secret = isSecret(key, field);
  return {
    key,
    value_json: JSON.stringify(secret && value !== '' ? REDACTED : value),
    runtime,
    secret,
    description: field.description,
  };
}

function checkedKey(key: string): BrokerConfigKey {
  if (!Object.prototype.hasOwnProperty.call(brokerConfigSchema, key)) {
    throw new ApogeeError('BAD_REQUEST', `Unknown config field ${JSON.stringify(key)}; GetConfig lists the fields (names are camelCase, e.g. autoCreateTopics)`);
  }
  return key as BrokerConfigKey;
}

function needsRestart(key: BrokerConfigKey, access: BrokerConfigAccess): ApogeeError {
  const runtime = configKeys().filter((k) => access.runtime?.[k] !== undefined);
  return new ApogeeError(
    'INVALID_CONFIG',
    `${key} cannot change while the broker runs (needs a restart): set it in the broker's config file, ` +
      `${envVarName(APP, key)} or --${toKebabCase(key)}, then restart the broker. ` +
      (runtime.length === 0 ? 'This broker has no fields that change at run time' : `Fields that change at run time: ${runtime.join(', ')}`),
  );
}

/** A value as typed on a command line, checked against the field (BAD_REQUEST saying what is allowed). */
export function parseValue(key: string, field: ConfigField, raw: string): unknown {
  const bad = (allowed: string): ApogeeError => new ApogeeError('BAD_REQUEST', `Bad value ${JSON.stringify(raw)} for ${key}; allowed: ${allowed}`);
  const text = raw.trim();
  switch (field.type) {
    case 'boolean':
      if (['true', 'false'].includes(text.toLowerCase())) return text.toLowerCase() === 'true';
      throw bad('true or false');
    case 'number': {
      const value = text === '' ? Number.NaN : Number(text);
      const range = `${field.integer ? 'an integer' : 'a number'}${field.min === undefined ? '' : ` ≥ ${field.min}`}${field.max === undefined ? '' : ` ≤ ${field.max}`}`;
      if (!Number.isFinite(value) || (field.integer === true && !Number.isInteger(value))) throw bad(range);
      if ((field.min !== undefined && value < field.min) || (field.max !== undefined && value > field.max)) throw bad(range);
      return value;
    }
    case 'enum':
      if (!field.values.includes(text)) throw bad(field.values.join(', '));
      return text;
    case 'string-list':
      return text === '' ? [] : text.split(',').map((s) => s.trim());
    case 'string':
      return raw;
  }
}
