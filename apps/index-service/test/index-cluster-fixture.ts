/**
 * Real processes for the index-service's integration tests: a nameserver, brokers registering
 * with it and an index-service following them, each its own process on loopback port 0 with its
 * data in one temporary directory; plus official RocketMQ producers. Everything is stopped and
 * removed by `stop()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer } from 'rocketmq-client-nodejs';
import {
  createBrokerAdminClient,
  createMessageIndexClient,
  createNameServerClient,
  type MessageIndexClient,
} from '@apogee/protocol';
import { shutdownClients, spawnService, waitFor, type SpawnedService } from '@apogee/testing';

const quietClientLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/** Fast discovery, heartbeats and reconnects so the tests see changes within a second. */
const INDEX_ARGS = [
  '--discovery-interval-ms', '200',
  '--follow-heartbeat-ms', '200',
  '--reconnect-min-ms', '50',
  '--reconnect-max-ms', '400',
  '--checkpoint-interval-ms', '50',
  '--key-index-slot-count', '4096',
  '--key-index-entries-per-file', '100000',
];

export interface IndexCluster {
  readonly nameserver: string;
  brokers: Map<string, SpawnedService>;
  index: SpawnedService;
  client: MessageIndexClient;
  startBroker(name: string): Promise<SpawnedService>;
  /** (Re)starts the index-service on its data dir; the old one must be gone. */
  startIndex(): Promise<SpawnedService>;
  createTopic(topic: string): Promise<void>;
  producer(topic: string): Promise<Producer>;
  stop(): Promise<void>;
}

export async function startIndexCluster(brokerNames: readonly string[]): Promise<IndexCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'apogee-index-'));
  const producers: Producer[] = [];
  const ns = await spawnService({ app: 'nameserver' });
  const cluster: IndexCluster = {
    nameserver: ns.grpcAddress,
    brokers: new Map(),
    index: undefined as unknown as SpawnedService,
    client: undefined as unknown as MessageIndexClient,
    async startBroker(name) {
      const broker = await spawnService({
        app: 'broker',
        args: ['--broker-name', name, '--data-dir', path.join(dir, name), '--nameservers', ns.grpcAddress, '--auto-create-topics', 'true'],
      });
      cluster.brokers.set(name, broker);
      await waitForNameserver(ns.grpcAddress, async (c) =>
        (await c.clusterInfo()).brokers.some((g) => g.brokerName === name && g.replicas.some((r) => r.address === broker.grpcAddress)),
      );
      return broker;
    },
    async startIndex() {
      cluster.client?.close();
      cluster.index = await spawnService({
        app: 'index-service',
        args: ['--data-dir', path.join(dir, 'index'), '--nameservers', ns.grpcAddress, ...INDEX_ARGS],
      });
      cluster.client = createMessageIndexClient(cluster.index.grpcAddress, { timeoutMs: 5_000 });
      return cluster.index;
    },
    async createTopic(topic) {
      for (const broker of cluster.brokers.values()) {
        const admin = createBrokerAdminClient(broker.grpcAddress);
        try {
          await admin.call('CreateTopic', { name: topic, read_queue_count: 2, write_queue_count: 2, message_type: 'NORMAL' });
        } finally {
          admin.close();
        }
      }
      await waitForNameserver(ns.grpcAddress, async (c) => new Set((await c.queryRoute(topic)).queues.map((q) => q.brokerName)).size === cluster.brokers.size);
    },
    async producer(topic) {
      const first = [...cluster.brokers.values()][0] as SpawnedService;
      const producer = new Producer({ endpoints: first.grpcAddress, namespace: '', topics: [topic], sslEnabled: false, logger: quietClientLogger });
      producers.push(producer);
      await producer.startup();
      return producer;
    },
    async stop() {
      await shutdownClients(producers);
      cluster.client?.close();
      await cluster.index?.stop('SIGTERM').catch(() => cluster.index.kill());
      for (const b of cluster.brokers.values()) await b.stop('SIGTERM').catch(() => b.kill());
      await ns.stop('SIGTERM').catch(() => ns.kill());
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const name of brokerNames) await cluster.startBroker(name);
    await cluster.startIndex();
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

async function waitForNameserver(address: string, ready: (c: ReturnType<typeof createNameServerClient>) => Promise<boolean>): Promise<void> {
  const client = createNameServerClient(address, { timeoutMs: 1_000 });
  try {
    await waitFor(() => ready(client), { timeoutMs: 15_000, what: 'the nameserver' });
  } finally {
    client.close();
  }
}

