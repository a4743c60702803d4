/**
 * A real nameserver and broker, each its own process on loopback port 0 with data in a temporary
 * directory, for the CLI's integration tests. The CLI only talks gRPC to them; the broker
 * registers itself with the nameserver (`--nameservers`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createNameServerClient } from '@apogee/protocol';
import { spawnService, waitFor, type SpawnedService } from '@apogee/testing';

export const CLUSTER_NAME = 'DefaultCluster';
export const BROKER_NAME = 'broker-a';

export interface TestCluster {
  readonly nameserver: string;
  readonly broker: string;
  /** Resolves once the nameserver routes `topic`. */
  syncRoutes(topic: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestCluster(): Promise<TestCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'apogee-cli-'));
  const started: SpawnedService[] = [];
  const stopAll = async (): Promise<void> => {
    for (const service of started) await service.stop('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ns = await spawnService({ app: 'nameserver' });
    started.push(ns);
    const broker = await spawnService({
      app: 'broker',
      args: ['--data-dir', path.join(dir, 'broker'), '--nameservers', ns.grpcAddress],
    });
    started.unshift(broker);
    await waitForRoutes(ns.grpcAddress, async (client) => (await client.clusterInfo()).brokers.length > 0, 'broker registration');
    return {
      nameserver: ns.grpcAddress,
      broker: broker.grpcAddress,
      syncRoutes: (topic) => waitForRoutes(ns.grpcAddress, (client) => client.queryRoute(topic).then(() => true), `a route of ${topic}`),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function waitForRoutes(
  nameserver: string,
  ready: (client: ReturnType<typeof createNameServerClient>) => Promise<boolean>,
  what: string,
): Promise<void> {
  const client = createNameServerClient(nameserver, { timeoutMs: 1_000 });
  try {
    await waitFor(() => ready(client), { timeoutMs: 15_000, what });
  } finally {
    client.close();
  }
}
