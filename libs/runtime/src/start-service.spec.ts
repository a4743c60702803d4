import { request } from 'node:http';
import { Writable } from 'node:stream';
import { checkHealth } from '@apogee/protocol';
import { loadConfig } from './config-loader';
import { createLogger } from './logger';
import { serviceConfigFields } from './service-config';
import { startService, type RunningService } from './start-service';

function captureLogger(lines: Record<string, unknown>[]) {
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return createLogger({ app: 'test', level: 'info', destination });
}

function status(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end(),
  );
}

describe('startService', () => {
  let service: RunningService | undefined;
  afterEach(async () => service?.stop());

  it('starts gRPC with health and /metrics, logs where they listen, and stops', async () => {
    const lines: Record<string, unknown>[] = [];
    const config = loadConfig(serviceConfigFields({ grpcPort: 1, metricsPort: 2 }), {
      app: 'test',
      argv: ['--grpc-host', '127.0.0.1', '--grpc-port', '0', '--metrics-host', '127.0.0.1', '--metrics-port', '0'],
    });
    service = await startService({ config, logger: captureLogger(lines) });
    expect(lines).toContainEqual(
      expect.objectContaining({
        app: 'test',
        msg: 'listening',
        grpc: `127.0.0.1:${service.grpcPort}`,
        metrics: `127.0.0.1:${service.metricsPort}`,
      }),
    );
    await expect(checkHealth(service.grpcAddress)).resolves.toBe('SERVING');
    expect(await status(service.metricsPort, '/metrics')).toBe(200);

    await service.stop();
    await service.stop(); // idempotent
    expect(lines.filter((l) => l.msg === 'stopped')).toHaveLength(1);
    await expect(status(service.metricsPort, '/metrics')).rejects.toThrow(/ECONNREFUSED/);
  });
});
