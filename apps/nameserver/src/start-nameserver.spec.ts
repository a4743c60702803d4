import { checkHealth } from '@apogee/protocol';
import { createLogger, loadConfig, type RunningService } from '@apogee/runtime';
import { httpGet } from '@apogee/testing';
import { APP, nameserverConfigSchema } from './config';
import { startNameserver } from './start-nameserver';

describe('startNameserver', () => {
  let service: RunningService | undefined;
  afterEach(async () => service?.stop());

  it('has the default ports', () => {
    const defaults = loadConfig(nameserverConfigSchema, { app: APP });
    expect(defaults).toMatchObject({ grpcPort: 9876, metricsPort: 19876 });
  });

  it('starts in-process on free ports, serves health and /metrics, and stops', async () => {
    const config = loadConfig(nameserverConfigSchema, {
      app: APP,
      overrides: { grpcHost: '127.0.0.1', grpcPort: 0, metricsHost: '127.0.0.1', metricsPort: 0 },
    });
    service = await startNameserver(config, { logger: createLogger({ app: APP, level: 'silent' }) });
    await expect(checkHealth(service.grpcAddress)).resolves.toBe('SERVING');
    const metrics = await httpGet(service.metricsAddress, '/metrics');
    expect(metrics.body).toContain('apogee_nameserver_info 1');
    await service.stop();
    await expect(checkHealth(service.grpcAddress, { timeoutMs: 500 })).rejects.toThrow();
  });
});
