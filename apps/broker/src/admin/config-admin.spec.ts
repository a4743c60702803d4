import { ApogeeError } from '@apogee/protocol';
import { loadConfig, type Logger } from '@apogee/runtime';
import { APP, brokerConfigSchema, type BrokerConfig } from '../config';
import { configAdminHandlers, parseValue } from './config-admin';

const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn(), debug: jest.fn(), child: () => logger } as unknown as Logger;
const config: BrokerConfig = loadConfig(brokerConfigSchema, { app: APP, overrides: { brokerName: 'broker-x', nameservers: [] } });

const entry = async (handlers: ReturnType<typeof configAdminHandlers>, key: string) =>
  (await handlers.GetConfig({})).entries?.find((e) => e.key === key);

async function failure(call: Promise<unknown>): Promise<ApogeeError> {
  const err = await call.then(
    () => new Error('the call succeeded'),
    (e: unknown) => e,
  );
  if (!(err instanceof ApogeeError)) throw err;
  return err;
}

describe('GetConfig / SetConfig', () => {
  it('lists every field in schema order with its value as JSON, and which can change at run time', async () => {
    const handlers = configAdminHandlers({ config, runtime: { autoCreateGroups: () => undefined } }, logger);
    const { entries = [] } = await handlers.GetConfig({});
    expect(entries.map((e) => e.key)).toEqual(Object.keys(brokerConfigSchema));
    expect(await entry(handlers, 'brokerName')).toMatchObject({ value_json: '"broker-x"', runtime: false, secret: false });
    expect(await entry(handlers, 'nameservers')).toMatchObject({ value_json: '[]' });
    expect(await entry(handlers, 'autoCreateGroups')).toMatchObject({ value_json: 'false', runtime: true });
  });

  it('applies a run-time field, answers the old and new entry, and GetConfig shows the new value', async () => {
    const apply = jest.fn();
    const handlers = configAdminHandlers({ config, runtime: { autoCreateGroups: apply } }, logger);
    const answer = await handlers.SetConfig({ key: 'autoCreateGroups', value: 'TRUE' });
    expect(apply).toHaveBeenCalledWith(true);
    expect(answer).toMatchObject({ old_entry: { value_json: 'false' }, entry: { key: 'autoCreateGroups', value_json: 'true', runtime: true } });
    expect(await entry(handlers, 'autoCreateGroups')).toMatchObject({ value_json: 'true' });
  });

  it('refuses a field that needs a restart, an unknown field and a bad value, saying what to do', async () => {
    const apply = jest.fn();
    const handlers = configAdminHandlers({ config, runtime: { autoCreateGroups: apply } }, logger);
    const restart = await failure(handlers.SetConfig({ key: 'flushMode', value: 'SYNC' }));
    expect(restart.code).toBe('INVALID_CONFIG');
    expect(restart.message).toMatch(/needs a restart.*APOGEE_BROKER_FLUSH_MODE.*--flush-mode.*autoCreateGroups/);
    expect((await failure(handlers.SetConfig({ key: 'nope', value: '1' }))).code).toBe('BAD_REQUEST');
    const bad = await failure(handlers.SetConfig({ key: 'autoCreateGroups', value: 'maybe' }));
    expect(bad.message).toMatch(/allowed: true or false/);
    expect(apply).not.toHaveBeenCalled();
  });

  it('answers NOT_IMPLEMENTED without config access', async () => {
    const handlers = configAdminHandlers(undefined, logger);
    expect((await failure(handlers.GetConfig({}))).code).toBe('NOT_IMPLEMENTED');
    expect((await failure(handlers.SetConfig({ key: 'autoCreateTopics', value: 'true' }))).code).toBe('NOT_IMPLEMENTED');
  });

  it('redacts secret fields and parses values by field type', () => {
    expect(parseValue('n', { type: 'number', integer: true, min: 1, default: 1, description: '' }, '5')).toBe(5);
    expect(() => parseValue('n', { type: 'number', integer: true, min: 1, default: 1, description: '' }, '0')).toThrow(/an integer ≥ 1/);
    expect(parseValue('l', { type: 'string-list', default: [], description: '' }, 'a:1, b:2')).toEqual(['a:1', 'b:2']);
    expect(() => parseValue('e', { type: 'enum', values: ['A', 'B'], default: 'A', description: '' }, 'C')).toThrow(/allowed: A, B/);
  });
});
