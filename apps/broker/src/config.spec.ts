import path from 'node:path';
import { ConfigError, createLogger, loadConfig } from '@apogee/runtime';
import { APP, brokerConfigSchema, validateBrokerConfig } from './config';
import { startBroker } from './start-broker';

const load = (argv: string[] = [], overrides: Record<string, unknown> = {}) =>
  loadConfig(brokerConfigSchema, { app: APP, argv, overrides });

describe('broker config', () => {
  it('is master broker-a of DefaultCluster, registering with the local nameserver, by default', () => {
    const config = load();
    expect(config).toMatchObject({
      clusterName: 'DefaultCluster',
      brokerName: 'broker-a',
      brokerId: 0,
      nameservers: ['127.0.0.1:9876'],
      advertisedAddress: '',
    });
    expect(() => validateBrokerConfig(config)).not.toThrow();
  });

  it('takes nameservers as a comma-separated flag, and an empty one as standalone', () => {
    expect(load(['--nameservers', 'ns-1.mq:9876, 10.0.0.2:9876']).nameservers).toEqual(['ns-1.mq:9876', '10.0.0.2:9876']);
    expect(load(['--nameservers', '']).nameservers).toEqual([]);
    expect(load([], { nameservers: [] }).nameservers).toEqual([]);
  });

  it.each([
    [{ nameservers: ['127.0.0.1'] }, 'bad value for "nameservers[0]"', 'it must be host:port'],
    [{ nameservers: ['a:9876', 'a:9876'] }, 'lists "a:9876" twice', 'list each nameserver once'],
    [{ advertisedAddress: '0.0.0.0:0' }, 'bad value for "advertisedAddress"', 'port "0" is not an integer from 1'],
    [{ brokerName: 'broker a' }, 'bad value for "brokerName"', 'illegal character " "'],
    [{ clusterName: '' }, 'bad value for "clusterName"', 'Cluster name is empty'],
    [{ brokerId: 1 }, 'brokerId 1 is a slave and needs "masterAddress"', 'host:port of its master'],
    [{ masterAddress: '127.0.0.1:8081' }, '"masterAddress" is set but brokerId is 0', 'set brokerId to 1 or more'],
    [{ brokerId: 1, masterAddress: 'master' }, 'bad value for "masterAddress"', 'host:port'],
    [{ retentionHours: 24 }, 'timerMaxDelayMs (604800000 ms) is longer than retentionHours (24 h)', 'Raise retentionHours or lower timerMaxDelayMs'],
  ])('refuses %j, saying what to fix', (overrides, what, fix) => {
    const config = load([], overrides);
    expect(() => validateBrokerConfig(config)).toThrow(ConfigError);
    expect(() => validateBrokerConfig(config)).toThrow(what);
    expect(() => validateBrokerConfig(config)).toThrow(fix);
  });

  it('refuses a negative broker id when loading, and a bad config at start', async () => {
    expect(() => load(['--broker-id', '-1'])).toThrow('bad value for "brokerId"');
    const logger = createLogger({ app: APP, level: 'silent' });
    await expect(startBroker(load([], { nameservers: ['nowhere'] }), { logger })).rejects.toThrow(ConfigError);
  });

  it('replicates ASYNC by default; SYNC takes a confirmation timeout, an in-sync lag bound and the degrade switch', () => {
    expect(load()).toMatchObject({ replicationMode: 'ASYNC', syncReplicaTimeoutMs: 2_000, inSyncMaxLagBytes: 64 * 1024 * 1024, syncDegradeToAsync: false });
    const config = load(['--replication-mode', 'SYNC', '--sync-replica-timeout-ms', '500', '--in-sync-max-lag-bytes', '1024']);
    expect(config).toMatchObject({ replicationMode: 'SYNC', syncReplicaTimeoutMs: 500, inSyncMaxLagBytes: 1024 });
    expect(() => validateBrokerConfig(config)).not.toThrow();
    expect(() => load(['--replication-mode', 'SEMI'])).toThrow('bad value for "replicationMode"');
    expect(() => load(['--sync-replica-timeout-ms', '0'])).toThrow('bad value for "syncReplicaTimeoutMs"');
    expect(() => load(['--in-sync-max-lag-bytes', '-1'])).toThrow('bad value for "inSyncMaxLagBytes"');
  });

  it('takes a slave with its master address', () => {
    const config = load(['--broker-id', '1', '--master-address', 'broker-a-0.mq:8081']);
    expect(config).toMatchObject({ brokerId: 1, masterAddress: 'broker-a-0.mq:8081' });
    expect(() => validateBrokerConfig(config)).not.toThrow();
  });

  it('loads the production example, with auto-creation off', () => {
    const config = load(['--config', path.join(__dirname, '../../../deploy/broker.prod.json')]);
    expect(() => validateBrokerConfig(config)).not.toThrow();
    expect(config).toMatchObject({ autoCreateTopics: false, autoCreateGroups: false, nameservers: [expect.any(String), expect.any(String)] });
  });
});
