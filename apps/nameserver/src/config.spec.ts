import { ConfigError, createLogger, loadConfig } from '@apogee/runtime';
import { APP, heartbeatTimingOf, nameserverConfigSchema, validateNameserverConfig } from './config';
import { startNameserver } from './start-nameserver';

const load = (argv: string[]) => loadConfig(nameserverConfigSchema, { app: APP, argv });

describe('nameserver config', () => {
  it('evicts after 120 s by default and tells brokers to heartbeat every 30 s', () => {
    const config = load([]);
    expect(config).toMatchObject({ evictionWindowMs: 120_000, evictionCheckIntervalMs: 5_000 });
    expect(heartbeatTimingOf(config)).toEqual({ heartbeatIntervalMs: 30_000, evictionWindowMs: 120_000 });
  });

  it.each([
    [['--eviction-window-ms', '0'], 'evictionWindowMs'],
    [['--eviction-window-ms', '1.5'], 'evictionWindowMs'],
    [['--eviction-check-interval-ms', '-1'], 'evictionCheckIntervalMs'],
  ])('refuses %j', (argv, key) => {
    expect(() => load(argv)).toThrow(new RegExp(`bad value for "${key}"`));
  });

  it('refuses a check interval longer than the window, also at start', async () => {
    const config = load(['--eviction-window-ms', '1000', '--eviction-check-interval-ms', '2000']);
    expect(() => validateNameserverConfig(config)).toThrow(ConfigError);
    await expect(startNameserver(config, { logger: createLogger({ app: APP, level: 'silent' }) })).rejects.toThrow(
      'evictionCheckIntervalMs (2000) is longer than evictionWindowMs (1000)',
    );
  });
});
