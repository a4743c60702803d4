import { defineConfigSchema, serviceConfigFields, type ConfigOf } from '@apogee/runtime';

export const APP = 'ha-replicator';

/** The ha-replicator's config: flags --grpc-port, env APOGEE_HA_REPLICATOR_GRPC_PORT, or a JSON file (--config). */
export const haReplicatorConfigSchema = defineConfigSchema({
  ...serviceConfigFields({ grpcPort: 9878, metricsPort: 19878 }),
  dataDir: {
    type: 'string',
    default: './data/ha-replicator',
    description: 'Directory for this ha-replicator\'s files; created at start.',
  },
  etcdEndpoints: {
    type: 'string-list',
    default: [],
    description:
      'etcd endpoints (http://host:port) used to elect the one acting ha-replicator among several. ' +
      'Empty: a single ha-replicator runs and always acts (flag: --etcd-endpoints "").',
  },
  electionName: {
    type: 'string',
    default: 'apogee/ha-replicator',
    description: 'Name of the etcd election the ha-replicators campaign in; every candidate of one cluster uses the same one.',
  },
  electionTtlSeconds: {
    type: 'number',
    integer: true,
    min: 1,
    default: 5,
    description:
      "TTL of the elected leader's etcd lease: a leader that stops renewing it steps down within about this long, " +
      'and another candidate takes over once it expires.',
  },
  masterTimeoutMs: {
    type: 'number',
    integer: true,
    min: 100,
    default: 3_000,
    description:
      "A master not heard from for this long is replaced by its replica with the highest log end. Must exceed leaseMs: " +
      'the old master stops acknowledging writes when its lease ends, before anyone is promoted.',
  },
  leaseMs: {
    type: 'number',
    integer: true,
    min: 50,
    default: 2_000,
    description: 'How long a master may acknowledge writes after sending a heartbeat that the acting ha-replicator answered.',
  },
  tickMs: {
    type: 'number',
    integer: true,
    min: 10,
    default: 200,
    description: 'How often the failover rule runs.',
  },
  advertisedAddress: {
    type: 'string',
    default: '',
    description:
      'host:port brokers are told to reach this ha-replicator at when it acts (its etcd candidate id). Empty: grpcHost and the bound port, a wildcard host replaced by loopback.',
  },
});


export type HaReplicatorConfig = ConfigOf<typeof haReplicatorConfigSchema>;
