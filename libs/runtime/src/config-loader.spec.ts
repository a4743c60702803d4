import { ConfigError } from './config-error';
import { defineConfigSchema, loadConfig } from './config-loader';
import { renderConfig, renderConfigHelp } from './config-render';

const schema = defineConfigSchema({
  grpcPort: { type: 'number', integer: true, min: 0, max: 65535, default: 8081, description: 'port' },
  dataDir: { type: 'string', default: './data/broker', description: 'dir' },
  syncFlush: { type: 'boolean', default: false, description: 'flush' },
  logLevel: { type: 'enum', values: ['info', 'debug'], default: 'info', envAliases: ['LOG_LEVEL'], description: 'lvl' },
  nameServers: { type: 'string-list', default: ['127.0.0.1:9876'], description: 'ns' },
  password: { type: 'string', default: '', secret: true, description: 'pw' },
});

const files: Record<string, string> = {
  'cfg.json': JSON.stringify({ grpcPort: 1000, dataDir: '/file', syncFlush: true }),
  'typo.json': JSON.stringify({ grpcPrt: 1 }),
  'bad.json': '{ nope',
};
const readFile = (p: string): string => {
  if (!(p in files)) throw new Error(`ENOENT: ${p}`);
  return files[p];
};
const load = (argv: string[] = [], env: Record<string, string> = {}) =>
  loadConfig(schema, { app: 'broker', argv, env, readFile });

describe('loadConfig', () => {
  it('returns the defaults, frozen', () => {
    const config = load();
    expect(config).toEqual({
      grpcPort: 8081,
      dataDir: './data/broker',
      syncFlush: false,
      logLevel: 'info',
      nameServers: ['127.0.0.1:9876'],
      password: '',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.nameServers)).toBe(true);
  });

  it('applies defaults < file < environment < flags', () => {
    const env = { APOGEE_BROKER_GRPC_PORT: '2000', APOGEE_BROKER_DATA_DIR: '/env' };
    expect(load(['--config', 'cfg.json'], env)).toMatchObject({ grpcPort: 2000, dataDir: '/env', syncFlush: true });
    expect(load(['--config=cfg.json', '--grpc-port', '3000'], env)).toMatchObject({ grpcPort: 3000, dataDir: '/env' });
    expect(load(['--grpcPort=4000'], env).grpcPort).toBe(4000);
    expect(load([], { APOGEE_BROKER_CONFIG: 'cfg.json' }).grpcPort).toBe(1000);
  });

  it('parses every type from text', () => {
    const config = load(['--sync-flush', '--log-level', 'debug', '--name-servers', 'a:1, b:2']);
    expect(config).toMatchObject({ syncFlush: true, logLevel: 'debug', nameServers: ['a:1', 'b:2'] });
    expect(load(['--sync-flush', 'false']).syncFlush).toBe(false);
    expect(load(['--grpc-port', '0']).grpcPort).toBe(0);
  });

  it('honours env aliases after the APOGEE_ name', () => {
    expect(load([], { LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(load([], { LOG_LEVEL: 'debug', APOGEE_BROKER_LOG_LEVEL: 'info' }).logLevel).toBe('info');
  });

  it('applies overrides from code last', () => {
    const config = loadConfig(schema, { app: 'broker', argv: ['--grpc-port', '1'], overrides: { grpcPort: 0 } });
    expect(config.grpcPort).toBe(0);
  });

  it.each([
    [['--grpc-prt', '1'], /unknown flag --grpc-prt/],
    [['--config', 'typo.json'], /unknown key "grpcPrt" in file typo.json/],
    [['--config', 'missing.json'], /cannot read file missing.json/],
    [['--config', 'bad.json'], /file bad.json is not valid JSON/],
    [['--grpc-port'], /flag --grpc-port needs a value/],
    [['stray'], /unexpected argument "stray"/],
    [
      ['--grpc-port', 'abc'],
      /bad value for "grpcPort" from flag --grpc-port: "abc" \(expected an integer from 0 to 65535\)/,
    ],
    [['--grpc-port', '70000'], /"70000" \(expected an integer from 0 to 65535\)/],
    [['--grpc-port', '1.5'], /expected an integer/],
    [['--log-level', 'loud'], /"logLevel" from flag --log-level: "loud" \(expected one of info, debug\)/],
    [['--sync-flush=maybe'], /expected true or false/],
  ])('rejects %p', (argv, message) => {
    expect(() => load(argv)).toThrow(ConfigError);
    expect(() => load(argv)).toThrow(message);
  });

  it('names the environment variable of a bad value', () => {
    expect(() => load([], { APOGEE_BROKER_GRPC_PORT: 'x' })).toThrow(
      'config: bad value for "grpcPort" from environment APOGEE_BROKER_GRPC_PORT: "x" ' +
        '(expected an integer from 0 to 65535)',
    );
  });

  it('rejects unknown override keys and bad defaults', () => {
    const overrides = { nope: 1 };
    expect(() => loadConfig(schema, { app: 'broker', overrides })).toThrow(/unknown key "nope" in overrides/);
    expect(() => defineConfigSchema({ port: { type: 'number', min: 1, default: 0, description: '' } })).toThrow(
      /bad value for "port" from default/,
    );
  });
});

describe('renderConfig', () => {
  it('redacts secrets', () => {
    const config = load([], { APOGEE_BROKER_PASSWORD: 'hunter2' });
    expect(renderConfig(schema, config)).toMatchObject({ password: '[redacted]', grpcPort: 8081 });
    expect(JSON.stringify(renderConfig(schema, config))).not.toContain('hunter2');
  });

  it('writes help with flags and environment names', () => {
    const help = renderConfigHelp('index-service', schema);
    expect(help).toContain('--grpc-port <integer 0..65535>');
    expect(help).toContain('APOGEE_INDEX_SERVICE_GRPC_PORT');
    expect(help).toContain('APOGEE_INDEX_SERVICE_LOG_LEVEL, LOG_LEVEL');
  });
});
