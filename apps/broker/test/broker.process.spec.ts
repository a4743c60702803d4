import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkHealth } from '@apogee/protocol';
import { httpGet, spawnService, type SpawnedService } from '@apogee/testing';

// Runs src/main.ts as a real process: flags, JSON logs, health, /metrics and SIGTERM end to end.
describe('broker process', () => {
  let dir: string;
  let service: SpawnedService | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-'));
  });
  afterAll(async () => {
    service?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves health and /metrics, then exits 0 on SIGTERM', async () => {
    service = await spawnService({ app: 'broker', args: ['--data-dir', path.join(dir, 'data')] });
    await expect(checkHealth(service.grpcAddress)).resolves.toBe('SERVING');
    const metrics = await httpGet(service.metricsAddress, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('apogee_broker_info 1');
    expect(metrics.body).toContain('apogee_process_resident_memory_bytes');

    await expect(service.stop('SIGTERM')).resolves.toEqual({ code: 0, signal: null });
    const messages = service.logs.map((l) => l.msg);
    expect(messages).toEqual(['starting', 'store recovered', 'listening', 'shutting down', 'stopped', 'store closed', 'shutdown complete']);
    expect(service.logs.every((l) => l.app === 'broker')).toBe(true);
  });
});
