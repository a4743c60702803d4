import { checkHealth, NAMESERVER_SERVICE_NAME } from '@apogee/protocol';
import { describeInProcessApp } from '@apogee/testing';
import { APP, nameserverConfigSchema } from './config';
import { startNameserver } from './start-nameserver';

describeInProcessApp({
  app: APP,
  schema: nameserverConfigSchema,
  start: startNameserver,
  defaults: { grpcPort: 9876, metricsPort: 19876, evictionWindowMs: 120_000, evictionCheckIntervalMs: 5_000 },
  hasDataDir: false,
  whileRunning: async (service, _dataDir, metrics) => {
    await expect(checkHealth(service.grpcAddress, { service: NAMESERVER_SERVICE_NAME })).resolves.toBe('SERVING');
    expect(metrics).toContain('apogee_nameserver_live_brokers 0');
  },
});
