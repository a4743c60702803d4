import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  createLogger,
  advertisedAddressOf,
  createMetricsRegistry,
  startService,
  systemClock,
  type Logger,
  type RunningService,
} from '@apogee/runtime';
import { MetadataStore } from '@apogee/storage';
import { APP, type HaReplicatorConfig } from './config';
import { createHaControllerService, HA_GROUPS_TABLE, type HaControllerService } from './controller/ha-controller-service';
import type { PersistedGroup } from './controller/ha-groups';
import { createHaMetrics } from './metrics';
import { EtcdLeaderElection } from './election/etcd-election';
import { soloElection, type LeaderElection } from './election/leader-election';

export interface HaReplicatorDeps {
  /** Defaults to a JSON logger on stdout at config.logLevel. */
  logger?: Logger;
}

export interface RunningHaReplicator extends RunningService {
  readonly controller: HaControllerService;
  readonly election: LeaderElection;
}

/** How often a non-acting ha-replicator looks up the acting one (it tells brokers that reach it). */
const LEADER_LOOKUP_MS = 1_000;

/**
 * Starts the ha-replicator: serves apogee.ha.v1.HaController (controller/ha-controller-service.ts),
 * grpc.health.v1 and /metrics, and campaigns to act: alone (no etcdEndpoints) it acts at once;
 * with etcd, only while elected (election/etcd-election.ts). Each group's epoch and master are
 * kept in <dataDir>/meta. Stopping resigns (another ha-replicator takes over at once), then stops
 * the server.
 * Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startHaReplicator(config: HaReplicatorConfig, deps: HaReplicatorDeps = {}): Promise<RunningHaReplicator> {
  const logger: Logger = deps.logger ?? createLogger({ app: APP, level: config.logLevel });
  if (config.leaseMs >= config.masterTimeoutMs) {
    throw new Error(`config: leaseMs (${config.leaseMs}) must be below masterTimeoutMs (${config.masterTimeoutMs})`);
  }
  await mkdir(config.dataDir, { recursive: true });
  const meta = await MetadataStore.open(path.join(config.dataDir, 'meta'));
  let address = '';
  /** Who acts: this one's address while it does, else the elected one's (looked up every LEADER_LOOKUP_MS). */
  let actingAddress = '';
  let controller: HaControllerService | undefined;
  let service: RunningService | undefined;
  try {
    controller = createHaControllerService({
      table: await meta.table<PersistedGroup>(HA_GROUPS_TABLE),
      clock: systemClock,
      logger: logger.child({ component: 'controller' }),
      masterTimeoutMs: config.masterTimeoutMs,
      leaseMs: config.leaseMs,
      tickMs: config.tickMs,
      actingAddress: () => actingAddress,
    });
    const registry = createMetricsRegistry(APP);
    const running = controller;
    createHaMetrics(registry, () => running.groups()?.status(systemClock.now()));
    service = await startService({ config, logger, registry, services: [controller.registration] });
  } catch (err) {
    controller?.close();
    await service?.stop();
    await meta.close();
    throw err;
  }
  address = advertisedAddressOf(config, service.grpcPort);
  const election: LeaderElection =
    config.etcdEndpoints.length === 0
      ? soloElection(address)
      : new EtcdLeaderElection({
          endpoints: [...config.etcdEndpoints],
          electionName: config.electionName,
          candidateId: address,
          ttlSeconds: config.electionTtlSeconds,
          logger: logger.child({ component: 'election' }),
        });
  const acting = controller;
  const lookUpLeader = async (): Promise<void> => {
    actingAddress = election.isLeader ? address : ((await election.leaderId()) ?? '');
  };
  election.onChange((isLeader) => {
    acting.setActing(isLeader);
    void lookUpLeader();
  });
  await election.start();
  const leaderLookup = setInterval(() => void lookUpLeader(), LEADER_LOOKUP_MS);
  leaderLookup.unref();
  const serving = service;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        clearInterval(leaderLookup);
        await election.stop();
        acting.close();
        await serving.stop();
      } finally {
        await meta.close();
      }
    })());
  return { ...serving, controller: acting, election, stop };
}
