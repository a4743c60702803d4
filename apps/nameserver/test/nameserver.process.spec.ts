import { createNameServerClient } from '@apogee/protocol';
import { describeAppProcess, spawnService, waitFor, type SpawnedService } from '@apogee/testing';

// Runs src/main.ts as a real process: flags, JSON logs, health, /metrics and SIGTERM end to end.
describeAppProcess('nameserver', {
  hasDataDir: false,
  expectedLogs: ['starting', 'listening', 'shutting down', 'stopped', 'shutdown complete'],
  crossFieldBadArgs: ['--eviction-window-ms', '1000', '--eviction-check-interval-ms', '5000'],
});

describe('nameserver process eviction', () => {
  let service: SpawnedService | undefined;
  afterAll(() => service?.kill());

  it('takes the eviction window from flags and logs each eviction as one JSON line', async () => {
    service = await spawnService({ app: 'nameserver', args: ['--eviction-window-ms', '200', '--eviction-check-interval-ms', '20'] });
    const client = createNameServerClient(service.grpcAddress);
    try {
      const registration = { clusterName: 'c1', brokerName: 'broker-x', brokerId: 0, address: '127.0.0.1:8081', topics: [] };
      await expect(client.register(registration)).resolves.toEqual({ heartbeatIntervalMs: 50, evictionWindowMs: 200 });
    } finally {
      client.close();
    }
    const logs = service.logs;
    const evicted = await waitFor(() => logs.find((l) => l.msg === 'broker evicted'), { what: 'the eviction log line' });
    expect(evicted).toMatchObject({ app: 'nameserver', component: 'routes', cluster: 'c1', broker: 'broker-x', brokerId: 0 });
    expect(logs.filter((l) => l.msg === 'broker registered')).toHaveLength(1);
    await expect(service.stop('SIGTERM')).resolves.toEqual({ code: 0, signal: null });
  });
});
