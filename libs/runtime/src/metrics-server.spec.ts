import { request } from 'node:http';
import { Counter } from 'prom-client';
import { createMetricsRegistry } from './metrics-registry';
import { startMetricsServer, type MetricsServer } from './metrics-server';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startMetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => server?.stop());

  it('serves /metrics with default and registered metrics on a free port', async () => {
    const registry = createMetricsRegistry();
    new Counter({ name: 'apogee_test_total', help: 'test', registers: [registry] }).inc(3);
    server = await startMetricsServer({ registry, host: '127.0.0.1', port: 0 });
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);

    const res = await get(server.port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    expect(res.body).toContain('apogee_test_total 3');
    expect(res.body).toContain('apogee_process_cpu_user_seconds_total');
    expect((await get(server.port, '/metrics?x=1')).status).toBe(200);
  });

  it('answers 404 to anything else', async () => {
    server = await startMetricsServer({ registry: createMetricsRegistry(), host: '127.0.0.1', port: 0 });
    expect((await get(server.port, '/')).status).toBe(404);
    expect((await get(server.port, '/metrics', 'POST')).status).toBe(404);
  });

  it('reports a port in use', async () => {
    server = await startMetricsServer({ registry: createMetricsRegistry(), host: '127.0.0.1', port: 0 });
    await expect(
      startMetricsServer({ registry: createMetricsRegistry(), host: '127.0.0.1', port: server.port }),
    ).rejects.toThrow(`metrics: cannot listen on 127.0.0.1:${server.port}`);
  });
});
