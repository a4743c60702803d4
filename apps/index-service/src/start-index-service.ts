import { mkdir } from 'node:fs/promises';
import {
  createBrokerDispatchClient,
  createNameServerClient,
  loadMessageIndexService,
  MESSAGE_INDEX_SERVICE,
  type MessageIndexHandlers,
} from '@apogee/protocol';
import {
  createLogger,
  createMetricsRegistry,
  startService,
  unaryCall,
  type GrpcServiceRegistration,
  type Logger,
  type RunningService,
} from '@apogee/runtime';
import { ClusterFollower } from './cluster-follower';
import { APP, type IndexServiceConfig } from './config';
import type { DispatchClientFactory } from './dispatch-source';
import { Indexer } from './indexer';
import { MessageQuery } from './message-query';
import { createIndexMetrics } from './metrics';

export interface IndexServiceDeps {
  /** Defaults to a JSON logger on stdout at config.logLevel. */
  logger?: Logger;
  /** Defaults to grpc-js clients of apogee.broker.v1.BrokerDispatch. */
  dispatchClient?: DispatchClientFactory;
}

export interface RunningIndexService extends RunningService {
  readonly follower: ClusterFollower;
  readonly indexer: Indexer;
}

/**
 * Starts the index-service: opens the key index at its checkpoint, follows every master broker
 * the nameservers list (cluster-follower.ts), and serves apogee.index.v1.MessageIndex, health and
 * /metrics. Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startIndexService(config: IndexServiceConfig, deps: IndexServiceDeps = {}): Promise<RunningIndexService> {
  const logger: Logger = deps.logger ?? createLogger({ app: APP, level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  const indexer = await Indexer.open(config.dataDir, {
    slotCount: config.keyIndexSlotCount,
    entriesPerFile: config.keyIndexEntriesPerFile,
    logger,
  });
  const nameservers = config.nameservers.map((address) => createNameServerClient(address, { timeoutMs: config.brokerTimeoutMs }));
  const registry = createMetricsRegistry(APP);
  const lagOf: { follower?: ClusterFollower } = {};
  const metrics = createIndexMetrics(registry, () => lagOf.follower?.lag() ?? []);
  const follower = new ClusterFollower(
    {
      discoveryIntervalMs: config.discoveryIntervalMs,
      checkpointIntervalMs: config.checkpointIntervalMs,
      retentionIntervalMs: config.retentionIntervalMs,
      batchEntries: config.followBatchEntries,
      heartbeatMs: config.followHeartbeatMs,
      reconnectMinMs: config.reconnectMinMs,
      reconnectMaxMs: Math.max(config.reconnectMinMs, config.reconnectMaxMs),
      maxUnflushedEntries: config.maxUnflushedEntries,
    },
    {
      indexer,
      nameservers,
      dispatchClient: deps.dispatchClient ?? ((address) => createBrokerDispatchClient(address, { timeoutMs: config.brokerTimeoutMs })),
      logger,
      metrics,
    },
  );
  lagOf.follower = follower;
  const query = new MessageQuery(indexer, follower);
  const following = follower;
  const closeAll = async (): Promise<void> => {
    await following.stop();
    for (const ns of nameservers) ns.close();
    await indexer.close();
  };
  let serving: RunningService;
  try {
    serving = await startService({ config, logger, registry, services: [messageIndexService(query, following, logger)] });
  } catch (err) {
    await closeAll();
    throw err;
  }
  following.start();
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        await serving.stop();
      } finally {
        await closeAll();
      }
    })());
  return { ...serving, follower: following, indexer, stop };
}

function messageIndexService(query: MessageQuery, follower: ClusterFollower, logger: Logger): GrpcServiceRegistration {
  const handlers: MessageIndexHandlers = {
    QueryByKey: (request) => query.queryByKey(request),
    GetById: (request) => query.getById(request),
    QueryByTime: (request) => query.queryByTime(request),
    IndexStatus: async () => follower.status(),
  };
  const implementation = Object.fromEntries(
    Object.entries(handlers).map(([method, handle]) => [
      method,
      unaryCall({ method, logger, refusalLevel: 'debug' }, handle as (request: unknown) => Promise<unknown>),
    ]),
  );
  return { name: MESSAGE_INDEX_SERVICE, definition: loadMessageIndexService().service, implementation };
}
