import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkHealth } from '@apogee/protocol';
import { createLogger, loadConfig, type ConfigOf, type ConfigSchema, type Logger, type RunningService } from '@apogee/runtime';
import { httpGet } from './http-get';
import { spawnService, type SpawnedService } from './spawn-service';

/**
 * The lifecycle every app shares, as two test bodies run against each app: in-process on free
 * ports (config, health, /metrics, stop) and as a real process (flags, JSON logs, SIGTERM).
 */

export interface InProcessApp<S extends ConfigSchema> {
  readonly app: string;
  readonly schema: S;
  readonly start: (config: ConfigOf<S>, deps: { logger: Logger }) => Promise<RunningService>;
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly hasDataDir: boolean;
  /** More config for the started service (e.g. no peers to reach). */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** More checks while the service runs, and after it stopped. */
  readonly whileRunning?: (service: RunningService, dataDir: string, metrics: string) => Promise<void>;
  readonly afterStop?: (dataDir: string) => Promise<void>;
}

function metricName(app: string): string {
  return `apogee_${app.replace(/-/g, '_')}_info 1`;
}

export function describeInProcessApp<S extends ConfigSchema>(t: InProcessApp<S>): void {
  describe(`${t.app} in-process`, () => {
    let dir: string;
    let service: RunningService | undefined;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), `apogee-${t.app}-`));
    });
    afterEach(async () => service?.stop());
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it('has the default ports', () => {
      expect(loadConfig(t.schema, { app: t.app })).toMatchObject(t.defaults);
    });

    it('starts on free ports, serves health and /metrics, and stops', async () => {
      const dataDir = path.join(dir, 'data');
      const overrides = { grpcHost: '127.0.0.1', grpcPort: 0, metricsHost: '127.0.0.1', metricsPort: 0, ...t.overrides };
      const config = loadConfig(t.schema, { app: t.app, overrides: t.hasDataDir ? { ...overrides, dataDir } : overrides });
      service = await t.start(config, { logger: createLogger({ app: t.app, level: 'silent' }) });
      if (t.hasDataDir) expect((await stat(dataDir)).isDirectory()).toBe(true);
      await expect(checkHealth(service.grpcAddress)).resolves.toBe('SERVING');
      const metrics = await httpGet(service.metricsAddress, '/metrics');
      expect(metrics.body).toContain(metricName(t.app));
      await t.whileRunning?.(service, dataDir, metrics.body);
      await service.stop();
      await expect(checkHealth(service.grpcAddress, { timeoutMs: 500 })).rejects.toThrow();
      await t.afterStop?.(dataDir);
    });
  });
}

export interface AppProcessOptions {
  readonly hasDataDir: boolean;
  readonly expectedLogs: readonly string[];
  /** More flags (e.g. no peers to reach). */
  readonly args?: readonly string[];
  /** Flags each valid alone but wrong together (checked at start): the process must exit 2. */
  readonly crossFieldBadArgs?: readonly string[];
}

export function describeAppProcess(app: string, options: AppProcessOptions): void {
  describe(`${app} process`, () => {
    let dir: string;
    let service: SpawnedService | undefined;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), `apogee-${app}-`));
    });
    afterAll(async () => {
      service?.kill();
      await rm(dir, { recursive: true, force: true });
    });

    it('serves health and /metrics, then exits 0 on SIGTERM', async () => {
      const dataDirArgs = options.hasDataDir ? ['--data-dir', path.join(dir, 'data')] : [];
      service = await spawnService({ app, args: [...dataDirArgs, ...(options.args ?? [])] });
      await expect(checkHealth(service.grpcAddress)).resolves.toBe('SERVING');
      const metrics = await httpGet(service.metricsAddress, '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain(metricName(app));
      expect(metrics.body).toContain('apogee_process_resident_memory_bytes');
      await expect(service.stop('SIGTERM')).resolves.toEqual({ code: 0, signal: null });
      expect(service.logs.map((l) => l.msg)).toEqual(options.expectedLogs);
      expect(service.logs.every((l) => l.app === app)).toBe(true);
    });

    const badArgs = options.crossFieldBadArgs;
    if (badArgs) {
      it('exits 2, saying which setting is wrong, on a config whose fields disagree', async () => {
        const dataDirArgs = options.hasDataDir ? ['--data-dir', path.join(dir, 'bad')] : [];
        const started = spawnService({ app, args: [...dataDirArgs, ...(options.args ?? []), ...badArgs] });
        await expect(started).rejects.toThrow(/exited before listening \(code 2,[\s\S]*invalid config/);
      });
    }
  });
}
