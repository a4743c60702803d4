import { MAX_BROKER_ID, parseBrokerAddress, validateBrokerName, validateClusterName } from '@apogee/routing';
import { ConfigError, defineConfigSchema, serviceConfigFields, type ConfigOf } from '@apogee/runtime';

export const APP = 'broker';

const MiB = 1024 * 1024;

/** The broker's config: flags --grpc-port, env APOGEE_BROKER_GRPC_PORT, or a JSON file (--config). */
export const brokerConfigSchema = defineConfigSchema({
  ...serviceConfigFields({ grpcPort: 8081, metricsPort: 18081 }),
  clusterName: {
    type: 'string',
    default: 'DefaultCluster',
    description: "Cluster this broker group belongs to (letters, digits, '_' and '-'); every replica of a group uses the same one.",
  },
  brokerName: {
    type: 'string',
    default: 'broker-a',
    description: "Broker group name, shared by its master and slaves (letters, digits, '_' and '-').",
  },
  brokerId: {
    type: 'number',
    integer: true,
    min: 0,
    max: MAX_BROKER_ID,
    default: 0,
    description: 'Replica id in the broker group: 0 is the master, 1 and up are slaves.',
  },
  masterAddress: {
    type: 'string',
    default: '',
    description:
      'Slaves (brokerId > 0) without haReplicators only, and required there: host:port of the master of the broker group, ' +
      'whose commit log the slave replicates. With haReplicators the ha-replicator assigns masters instead.',
  },
  haReplicators: {
    type: 'string-list',
    default: [],
    description:
      'ha-replicators (host:port) that manage this broker group: they assign master and slaves, lease the master its right ' +
      'to acknowledge writes, and fail over. Empty: roles are fixed by brokerId and masterAddress.',
  },
  haHeartbeatMs: {
    type: 'number',
    integer: true,
    min: 50,
    max: 10_000,
    default: 500,
    description: 'With haReplicators: how often the broker reports to them (and renews its lease as master).',
  },
  serviceAddress: {
    type: 'string',
    default: '',
    description:
      "host:port clients reach the broker group at, shared by its replicas: the group's master also listens there and " +
      'registers it as its address, so clients follow a failover without a new route (a virtual address on one host; ' +
      'in Kubernetes a Service that selects the master). Empty: clients use each master\'s own advertised address.',
  },
  nameservers: {
    type: 'string-list',
    default: ['127.0.0.1:9876'],
    description:
      'Nameservers (host:port) to register with; the broker registers with each one independently. ' +
      'Empty: standalone, no registration (flag: --nameservers "").',
  },
  advertisedAddress: {
    type: 'string',
    default: '',
    description:
      'host:port that nameservers and clients are told to reach this broker at. Empty: grpcHost and the ' +
      "port actually bound, with a wildcard host (0.0.0.0, ::) replaced by loopback, which only suits one machine; " +
      'set it behind NAT, in containers and on multi-host clusters.',
  },
  dataDir: {
    type: 'string',
    default: './data/broker',
    description: "Directory for this broker's files (messages in <dataDir>/store, topics, groups and open transactions in <dataDir>/meta, delay timers in <dataDir>/timer); created at start.",
  },
  flushMode: {
    type: 'enum',
    values: ['ASYNC', 'SYNC'] as const,
    default: 'ASYNC',
    description: 'ASYNC: acknowledge a send once written, fdatasync on an interval; SYNC: acknowledge after fdatasync (group commit).',
  },
  replicationMode: {
    type: 'enum',
    values: ['ASYNC', 'SYNC'] as const,
    default: 'ASYNC',
    description:
      'Master only. ASYNC: acknowledge a send once stored here, slaves follow; SYNC (sync double write): acknowledge only after ' +
      'an in-sync slave reported it written (flushed, under flushMode SYNC), else answer a retriable failure ' +
      '(HA_NOT_AVAILABLE with no in-sync slave, SLAVE_PERSISTENCE_TIMEOUT after syncReplicaTimeoutMs; the message is stored on the master either way).',
  },
  syncReplicaTimeoutMs: {
    type: 'number',
    integer: true,
    min: 10,
    max: 60_000,
    default: 2_000,
    description: "SYNC replication: how long a send waits for a slave's confirmation. Keep it under the clients' send timeout (3 s).",
  },
  inSyncMaxLagBytes: {
    type: 'number',
    integer: true,
    min: 0,
    default: 64 * MiB,
    description:
      "SYNC replication: a connected slave is in sync while its reported log end is at most this many bytes behind the master's end.",
  },
  syncDegradeToAsync: {
    type: 'boolean',
    default: false,
    description:
      'SYNC replication with no in-sync slave: true acknowledges sends as ASYNC (counted in apogee_replication_sync_wait_failures_total, ' +
      'warned once per degradation); false (default) fails them with a retriable HA_NOT_AVAILABLE.',
  },
  flushIntervalMs: { type: 'number', integer: true, min: 1, default: 500, description: 'ASYNC: fdatasync at least this often.' },
  segmentBytes: {
    type: 'number',
    integer: true,
    min: 8 * MiB,
    default: 1024 * MiB,
    description: 'Size of one commit-log segment file.',
  },
  maxBodyBytes: {
    type: 'number',
    integer: true,
    min: 1,
    max: 64 * MiB,
    default: 4 * MiB,
    description: 'Largest message body accepted.',
  },
  pushLongPollingTimeoutMs: {
    type: 'number',
    integer: true,
    min: 1_000,
    max: 20_000,
    default: 20_000,
    description:
      "Long-polling time push consumers are told to use (Settings long_polling_timeout; RocketMQ's proxy: 20 s). A push consumer's shutdown waits out its current poll.",
  },
  retentionHours: {
    type: 'number',
    min: 0.001,
    default: 192,
    description:
      'Commit-log segments older than this are deleted (default 8 days). Must exceed timerMaxDelayMs: a pending timer lives in the commit log.',
  },
  diskHighWatermark: {
    type: 'number',
    min: 0.01,
    max: 1,
    default: 0.85,
    description: 'Disk use (0-1) above which the oldest segments are deleted before they expire.',
  },
  diskCriticalWatermark: {
    type: 'number',
    min: 0.01,
    max: 1,
    default: 0.95,
    description: 'Disk use (0-1) above which sends are refused (disk full).',
  },
  timerMaxDelayMs: {
    type: 'number',
    integer: true,
    min: 1_000,
    default: 7 * 24 * 3_600_000,
    description:
      'How far ahead a DELAY message may be due (default 7 days); later delivery timestamps are refused with ILLEGAL_DELIVERY_TIME. ' +
      'At most retentionHours: a timer whose commit-log record was deleted by retention could not fire (checked at start).',
  },
  transactionCheckDelayMs: {
    type: 'number',
    integer: true,
    min: 100,
    default: 5_000,
    description:
      'How long after a TRANSACTION message is sent the broker first asks a producer of its topic to check an unresolved transaction ' +
      '(RecoverOrphanedTransactionCommand over Telemetry).',
  },
  transactionCheckIntervalMs: {
    type: 'number',
    integer: true,
    min: 100,
    default: 10_000,
    description: 'Time between later checks of an unresolved transaction.',
  },
  transactionMaxChecks: {
    type: 'number',
    integer: true,
    min: 0,
    default: 15,
    description:
      'Checks that reached a producer before an unresolved transaction is rolled back (one interval after the last check). ' +
      'Checks while no producer of the topic is connected do not count.',
  },
  autoCreateTopics: {
    type: 'boolean',
    default: false,
    description: 'Create an unknown topic on its first send (8 queues, the message type of that send); off: TOPIC_NOT_FOUND.',
  },
  autoCreateGroups: {
    type: 'boolean',
    default: false,
    description: 'Create an unknown consumer group, with the defaults, for its first consumer; off: CONSUMER_GROUP_NOT_FOUND.',
  },
});

export type BrokerConfig = ConfigOf<typeof brokerConfigSchema>;

/** Checks what the schema's per-field types cannot: names and addresses (ConfigError naming the field). */
export function validateBrokerConfig(config: BrokerConfig): void {
  checkField('clusterName', () => validateClusterName(config.clusterName));
  checkField('brokerName', () => validateBrokerName(config.brokerName));
  if (config.advertisedAddress !== '') checkField('advertisedAddress', () => parseBrokerAddress(config.advertisedAddress));
  if (config.serviceAddress !== '') checkField('serviceAddress', () => parseBrokerAddress(config.serviceAddress));
  config.haReplicators.forEach((address, i) => checkField(`haReplicators[${i}]`, () => parseBrokerAddress(address)));
  if (config.haReplicators.length > 0) {
    if (config.masterAddress !== '') {
      throw new ConfigError('config: "masterAddress" is set with haReplicators; the ha-replicator assigns masters, remove it');
    }
    return checkRest(config);
  }
  if (config.brokerId > 0 && config.masterAddress === '') {
    throw new ConfigError(
      `config: brokerId ${config.brokerId} is a slave and needs "masterAddress" (host:port of its master, broker id 0)`,
    );
  }
  if (config.brokerId === 0 && config.masterAddress !== '') {
    throw new ConfigError('config: "masterAddress" is set but brokerId is 0 (the master); set brokerId to 1 or more for a slave');
  }
  if (config.masterAddress !== '') checkField('masterAddress', () => parseBrokerAddress(config.masterAddress));
  checkRest(config);
}

function checkRest(config: BrokerConfig): void {
  config.nameservers.forEach((address, i) => checkField(`nameservers[${i}]`, () => parseBrokerAddress(address)));
  const duplicate = config.nameservers.find((address, i) => config.nameservers.indexOf(address) !== i);
  if (duplicate !== undefined) {
    throw new ConfigError(`config: nameservers lists ${JSON.stringify(duplicate)} twice; list each nameserver once`);
  }
  if (config.timerMaxDelayMs > config.retentionHours * 3_600_000) {
    throw new ConfigError(
      `config: timerMaxDelayMs (${config.timerMaxDelayMs} ms) is longer than retentionHours (${config.retentionHours} h): ` +
        'retention would delete delayed messages before they are due. Raise retentionHours or lower timerMaxDelayMs',
    );
  }
}

function checkField(key: string, check: () => unknown): void {
  try {
    check();
  } catch (err) {
    throw new ConfigError(`config: bad value for "${key}": ${(err as Error).message}`);
  }
}
