import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describeInProcessApp } from '@apogee/testing';
import { APP, brokerConfigSchema } from './config';
import { startBroker } from './start-broker';

describeInProcessApp({
  app: APP,
  schema: brokerConfigSchema,
  start: startBroker,
  defaults: {
    grpcPort: 8081,
    metricsPort: 18081,
    dataDir: './data/broker',
    flushMode: 'ASYNC',
    autoCreateTopics: false,
    autoCreateGroups: false,
    clusterName: 'DefaultCluster',
    brokerName: 'broker-a',
    brokerId: 0,
    nameservers: ['127.0.0.1:9876'],
    advertisedAddress: '',
  },
  hasDataDir: true,
  overrides: { nameservers: [] }, // standalone: registration has its own tests

  async whileRunning(_service, dataDir, metrics) {
    expect(metrics).toContain('apogee_broker_commit_log_max_offset_bytes 0');
    expect(metrics).toContain('apogee_broker_topics 0');
    expect((await stat(path.join(dataDir, 'store', 'abort'))).isFile()).toBe(true); // open
    expect((await stat(path.join(dataDir, 'meta'))).isDirectory()).toBe(true);
  },
  async afterStop(dataDir) {
    await expect(stat(path.join(dataDir, 'store', 'abort'))).rejects.toThrow(); // closed cleanly
  },
});
