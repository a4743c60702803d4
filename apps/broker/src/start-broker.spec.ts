import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkHealth } from '@apogee/protocol';
import { createLogger, loadConfig, type RunningService } from '@apogee/runtime';
import { httpGet } from '@apogee/testing';
import { APP, brokerConfigSchema } from './config';
import { startBroker } from './start-broker';

describe('startBroker', () => {
  let dir: string;
  let service: RunningService | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));
  afterEach(async () => service?.stop());

  it('has the default ports', () => {
    const defaults = loadConfig(brokerConfigSchema, { app: APP });
    expect(defaults).toMatchObject({ grpcPort: 8081, metricsPort: 18081 });
    expect(defaults.dataDir).toBe('./data/broker');
  });

  it('starts in-process on free ports, serves health and /metrics, and stops', async () => {
    const config = loadConfig(brokerConfigSchema, {
      app: APP,
      overrides: {
        grpcHost: '127.0.0.1',
        grpcPort: 0,
        metricsHost: '127.0.0.1',
        metricsPort: 0,
        dataDir: path.join(dir, 'data'),
      },
    });
    service = await startBroker(config, { logger: createLogger({ app: APP, level: 'silent' }) });
    expect((await stat(path.join(dir, 'data'))).isDirectory()).toBe(true);
    await expect(checkHealth(service.grpcAddress)).resolves.toBe('SERVING');
    const metrics = await httpGet(service.metricsAddress, '/metrics');
    expect(metrics.body).toContain('apogee_broker_info 1');
    expect(metrics.body).toContain('apogee_broker_commit_log_max_offset_bytes 0');
    expect((await stat(path.join(dir, 'data', 'store', 'abort'))).isFile()).toBe(true);
    await service.stop();
    await expect(stat(path.join(dir, 'data', 'store', 'abort'))).rejects.toThrow(); // clean close
    await expect(checkHealth(service.grpcAddress, { timeoutMs: 500 })).rejects.toThrow();
  });
});
