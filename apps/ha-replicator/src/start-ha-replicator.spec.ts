import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkHealth } from '@apogee/protocol';
import { createLogger, loadConfig, type RunningService } from '@apogee/runtime';
import { httpGet } from '@apogee/testing';
import { APP, haReplicatorConfigSchema } from './config';
import { startHaReplicator } from './start-ha-replicator';

describe('startHaReplicator', () => {
  let dir: string;
  let service: RunningService | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-ha-replicator-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));
  afterEach(async () => service?.stop());

  it('has the default ports', () => {
    const defaults = loadConfig(haReplicatorConfigSchema, { app: APP });
    expect(defaults).toMatchObject({ grpcPort: 9878, metricsPort: 19878 });
    expect(defaults.dataDir).toBe('./data/ha-replicator');
  });

  it('starts in-process on free ports, serves health and /metrics, and stops', async () => {
    const config = loadConfig(haReplicatorConfigSchema, {
      app: APP,
      overrides: {
        grpcHost: '127.0.0.1',
        grpcPort: 0,
        metricsHost: '127.0.0.1',
        metricsPort: 0,
        dataDir: path.join(dir, 'data'),
      },
    });
    service = await startHaReplicator(config, { logger: createLogger({ app: APP, level: 'silent' }) });
    expect((await stat(path.join(dir, 'data'))).isDirectory()).toBe(true);
    await expect(checkHealth(service.grpcAddress)).resolves.toBe('SERVING');
    const metrics = await httpGet(service.metricsAddress, '/metrics');
    expect(metrics.body).toContain('apogee_ha_replicator_info 1');
    await service.stop();
    await expect(checkHealth(service.grpcAddress, { timeoutMs: 500 })).rejects.toThrow();
  });
});
