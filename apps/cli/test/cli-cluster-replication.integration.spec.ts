import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient, createNameServerClient } from '@apogee/protocol';
import { spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { cli, closedAddress } from './cli-harness';

// `apogee cluster status` against a real nameserver and a broker group of a master and a slave
// (separate processes): each replica's epoch, log end and replication lag, asked of every replica
// with BrokerAdmin.ReplicationStatus.
const GROUP = 'ha';
const TOPIC = 'replicated';
const SENT = 20;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

let dir: string;
let ns: SpawnedService | undefined;
let master: SpawnedService | undefined;
let slave: SpawnedService | undefined;
let nsArgs: string[];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonDocument = Record<string, any>;
const parse = (stdout: string): JsonDocument => JSON.parse(stdout) as JsonDocument;

const brokerArgs = (name: string): string[] => ['--nameservers', ns?.grpcAddress ?? '', '--broker-name', GROUP, '--data-dir', path.join(dir, name)];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'apogee-cli-ha-'));
  ns = await spawnService({ app: 'nameserver' });
  master = await spawnService({ app: 'broker', args: brokerArgs('master') });
  slave = await spawnService({
    app: 'broker',
    args: [...brokerArgs('slave'), '--broker-id', '1', '--master-address', master.grpcAddress],
  });
  const nameserver = createNameServerClient(ns.grpcAddress, { timeoutMs: 1_000 });
  try {
    await waitFor(async () => (await nameserver.clusterInfo()).brokers.some((g) => g.replicas.length === 2), {
      timeoutMs: 15_000,
      what: 'master and slave registered',
    });
  } finally {
    nameserver.close();
  }
  const admin = createBrokerAdminClient(master.grpcAddress);
  try {
    await admin.call('CreateTopic', { name: TOPIC, read_queue_count: 1, write_queue_count: 1, message_type: 'NORMAL' });
  } finally {
    admin.close();
  }
  const producer = new Producer({ endpoints: master.grpcAddress, namespace: '', topics: [TOPIC], sslEnabled: false, logger: quiet });
  await producer.startup();
  try {
    for (let i = 0; i < SENT; i++) await producer.send({ topic: TOPIC, tag: 'T', body: Buffer.from(`replicated ${i}`) });
  } finally {
    await producer.shutdown();
  }
  nsArgs = ['--nameserver', ns.grpcAddress];
}, 90_000);

afterAll(async () => {
  for (const service of [slave, master, ns]) await service?.stop('SIGTERM').catch(() => service.kill());
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The status --json document once the slave caught up with everything sent. */
async function caughtUp(): Promise<JsonDocument> {
  let doc: JsonDocument = {};
  await waitFor(
    async () => {
      const { code, stdout } = await cli(['cluster', 'status', '--json', ...nsArgs]);
      if (code !== 0) return false;
      doc = parse(stdout);
      const [m, s] = doc.clusters[0].brokerGroups[0].replicas;
      return m?.replication?.inSyncReplicas === 1 && s?.replication?.lagBytes === 0 && s.replication.logEnd === m.replication.logEnd;
    },
    { timeoutMs: 15_000, what: 'the slave caught up' },
  );
  return doc;
}

describe('apogee cluster status with a master and a slave', () => {
  it('shows epoch, log end and lag of both replicas', async () => {
    await caughtUp();
    const { code, stdout, stderr } = await cli(['cluster', 'status', ...nsArgs]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const [header, masterRow, slaveRow] = stdout.trimEnd().split('\n');
    expect(header).toMatch(/^CLUSTER\s+BROKER\s+ID\s+ROLE\s+ADDRESS\s+LAST HEARTBEAT\s+EPOCH\s+LOG END\s+LAG$/);
    const logEnd = /MASTER\s+\S+\s+.*ago\s+0\s+(\d+)\s+in-sync 1\/1$/.exec(masterRow ?? '');
    expect(logEnd).not.toBeNull();
    expect(Number(logEnd?.[1])).toBeGreaterThan(0);
    expect(slaveRow).toMatch(new RegExp(`^\\S+\\s+${GROUP}\\s+1\\s+SLAVE\\s+${slave?.grpcAddress}\\s+.*ago\\s+0\\s+${logEnd?.[1]}\\s+0 B$`));
  });

  it('carries the replication fields in --json', async () => {
    const doc = await caughtUp();
    const [m, s] = doc.clusters[0].brokerGroups[0].replicas;
    expect(m.replication).toMatchObject({
      role: 'MASTER',
      epoch: 0,
      replicationMode: 'ASYNC',
      connectedReplicas: 1,
      inSyncReplicas: 1,
      replicas: [{ brokerId: 1, lagBytes: 0, lagSeconds: 0, inSync: true, writtenOffset: m.replication.logEnd }],
    });
    expect(s).toMatchObject({ brokerId: 1, role: 'SLAVE', address: slave?.grpcAddress });
    expect(s.replication).toMatchObject({
      role: 'SLAVE',
      epoch: 0,
      logEnd: m.replication.logEnd,
      master: { address: master?.grpcAddress, connected: true, masterMaxOffset: m.replication.logEnd, lagBytes: 0 },
      lagBytes: 0,
      lagSeconds: 0,
    });
  });

  it('shows - for a replica that does not answer, and still succeeds', async () => {
    const unreachable = await closedAddress();
    const nameserver = createNameServerClient(ns?.grpcAddress ?? '');
    const real = await nameserver.clusterInfo().finally(() => nameserver.close());
    // The nameserver's answer, with the slave's row pointing at an address nothing listens on.
    const brokers = real.brokers.map((g) => ({ ...g, replicas: g.replicas.map((r) => (r.brokerId === 1 ? { ...r, address: unreachable } : r)) }));
    const stub = { clusterInfo: async () => ({ ...real, brokers }), close: () => undefined };
    const { code, stdout, stderr } = await cli(['cluster', 'status', ...nsArgs], { nameServerClient: () => stub as never });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const [, masterRow, slaveRow] = stdout.trimEnd().split('\n');
    expect(masterRow).toMatch(/in-sync 1\/1$/);
    expect(slaveRow).toMatch(new RegExp(`SLAVE\\s+${unreachable}\\s+.*ago\\s+-\\s+-\\s+-$`));
  });
});
