/**
 * A broker group under an ha-replicator, as real processes, for the failover specs: one
 * ha-replicator (short timeouts), replicas 0..n-1 of group 'ha' sharing a service address
 * (the group address clients use), registered with one nameserver. Topics are created on the master; the slaves
 * copy them (SyncMetadata). The official client's producer, in a child process, sends
 * continuously to the service address; every acknowledged message is remembered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { createBrokerAdminClient, createHaControllerClient, createNameServerClient, type WireHaGroup } from '@apogee/protocol';
import { freePort, spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { GROUP, SEGMENT_BYTES, committedOffsets, createTopicOn } from './replication-fixture';

export const MASTER_TIMEOUT_MS = 2_000;
export const LEASE_MS = 1_500;

export interface HaGroupOptions {
  readonly dir: string;
  readonly replicationMode: 'SYNC' | 'ASYNC';
  /** Replicas 0..n-1; replica 0 starts as master. */
  readonly replicas: number;
}

export class HaGroupCluster {
  readonly replicas = new Map<number, SpawnedService>();
  ha!: SpawnedService;
  nameserver!: SpawnedService;
  serviceAddress = '';

  constructor(private readonly options: HaGroupOptions) {}

  async start(): Promise<void> {
    this.serviceAddress = `127.0.0.1:${await freePort()}`;
    this.nameserver = await spawnService({ app: 'nameserver' });
    this.ha = await spawnService({
      app: 'ha-replicator',
      args: [
        ...['--data-dir', path.join(this.options.dir, 'ha'), '--master-timeout-ms', String(MASTER_TIMEOUT_MS)],
        ...['--lease-ms', String(LEASE_MS), '--tick-ms', '100'],
      ],
    });
    for (let id = 0; id < this.options.replicas; id++) await this.startReplica(id);
  }

  /** Starts (or restarts, on the same data) replica `id`. */
  async startReplica(id: number): Promise<SpawnedService> {
    const service = await spawnService({
      app: 'broker',
      args: [
        ...['--nameservers', this.nameserver.grpcAddress, '--broker-name', GROUP, '--broker-id', String(id), '--segment-bytes', String(SEGMENT_BYTES)],
        ...['--data-dir', path.join(this.options.dir, `replica-${id}`), '--ha-replicators', this.ha.grpcAddress],
        ...['--ha-heartbeat-ms', '250', '--service-address', this.serviceAddress, '--replication-mode', this.options.replicationMode],
        ...['--sync-replica-timeout-ms', '1500', '--auto-create-groups', 'true'],
      ],
    });
    this.replicas.set(id, service);
    return service;
  }

  /** Creates the topic on the master (replica 0); resolves once every slave has copied it (SyncMetadata). */
  async createTopic(topic: string): Promise<void> {
    const master = this.replicas.get(0);
    if (master === undefined) throw new Error('replica 0 is not running');
    await createTopicOn(master.grpcAddress, topic);
    for (const replica of this.replicas.values()) {
      const admin = createBrokerAdminClient(replica.grpcAddress);
      try {
        await waitFor(() => admin.call('GetTopic', { name: topic }).then(() => true), { what: `${topic} copied`, timeoutMs: 10_000 });
      } finally {
        admin.close();
      }
    }
  }

  /** The sum of `group`'s committed offsets over the topic's queues on replica `id`. */
  async committedOn(id: number, group: string, topic: string): Promise<number> {
    const replica = this.replicas.get(id);
    if (replica === undefined) throw new Error(`replica ${id} is not running`);
    return committedOffsets(replica.grpcAddress, group, topic);
  }

  /** The group's replicas as the nameserver lists them: [id, address], by id. */
  async registered(): Promise<Array<[number, string]>> {
    const client = createNameServerClient(this.nameserver.grpcAddress);
    try {
      const info = await client.clusterInfo();
      const group = info.brokers.find((b) => b.brokerName === GROUP);
      return (group?.replicas ?? []).map((r) => [r.brokerId, r.address]);
    } finally {
      client.close();
    }
  }

  /** The group as the ha-replicator sees it. */
  async group(): Promise<WireHaGroup | undefined> {
    const client = createHaControllerClient(this.ha.grpcAddress);
    try {
      return (await client.listGroups(2_000)).groups?.find((g) => g.broker_name === GROUP);
    } finally {
      client.close();
    }
  }

  /** Waits until a replica `accept`s is master and no live replica is without a role; returns the group. */
  async waitMaster(accept: (id: number) => boolean, what: string, timeoutMs = 15_000): Promise<WireHaGroup> {
    return waitFor(
      async () => {
        const group = await this.group();
        const id = group?.master_replica_id;
        if (group === undefined || id === undefined || id < 0 || !accept(id)) return undefined;
        const master = group.replicas?.find((r) => r.replica_id === id);
        if (master?.role !== 'MASTER') return undefined;
        return group.replicas?.every((r) => r.role !== 'STANDBY') ? group : undefined;
      },
      { what, timeoutMs, intervalMs: 100 },
    );
  }

  stopAll(): void {
    for (const r of this.replicas.values()) r.kill();
    this.ha?.kill();
    this.nameserver?.kill();
  }
}

/** The official client sending continuously from a child process (failover-sender.ts); remembers what was acknowledged, and when. */
export class ContinuousSender {
  readonly acked: string[] = [];
  readonly ackTimes: number[] = [];
  failures = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private stderr = '';

  constructor(
    private readonly endpoint: string,
    private readonly topic: string,
  ) {}

  start(): void {
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    const script = path.join(__dirname, 'failover-sender.ts');
    const child = spawn(process.execPath, ['--import', tsx, script, this.endpoint, this.topic], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [kind, key, at] = line.split(' ');
      if (kind === 'ack') {
        this.acked.push(key);
        this.ackTimes.push(Number(at));
      } else if (kind === 'fail') {
        this.failures += 1;
      }
    });
  }

  /** SIGTERM; resolves once every line it printed was read. Throws with its stderr if it crashed. */
  async stop(): Promise<void> {
    if (this.child === undefined) return;
    this.child.kill('SIGTERM');
    await this.exited;
    if (this.child.exitCode !== 0) throw new Error(`the sender exited with ${String(this.child.exitCode)}: ${this.stderr}`);
    this.child = undefined;
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }
}
