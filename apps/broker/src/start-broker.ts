import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  createLogger,
  createMetricsRegistry,
  startService,
  systemClock,
  type Logger,
  type RunningService,
} from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import { createBrokerAdminService } from './admin/broker-admin-service';
import { DeadLetterQueue } from './consumer/dead-letter-queue';
import { createDispatchService, type DispatchService } from './dispatch/dispatch-service';
import { PopConsumption } from './consumer/pop-consumption';
import { createConsumerHandlers, type ConsumerHandlers } from './messaging/consumer-handlers';
import { APP, validateBrokerConfig, type BrokerConfig } from './config';
import { openBrokerMetadata, type BrokerMetadata } from './metadata/open-metadata';
import { createMessagingService, type MessagingService } from './messaging/messaging-service';
import { createRouteSource } from './messaging/route-source';
import { createBrokerMetrics, createReplicationMetrics } from './metrics';
import { openBrokerStore } from './open-store';
import { startBrokerRegistration } from './registration/broker-registration';
import { advertisedAddressOf } from './registration/advertised-address';
import { ReplicaFollower } from './replication/replica-follower';
import { createReplicationService, type ReplicationService } from './replication/replication-service';
import type { RegistrarTiming } from './registration/nameserver-registrar';
import { TIMER_CHECKPOINT_TABLE, TimerStore } from './timer/timer-store';
import { TRANSACTION_TABLE, TransactionStore, type PendingTransaction } from './transaction/transaction-store';

export interface BrokerDeps {
  /** Defaults to a JSON logger on stdout at config.logLevel. */
  logger?: Logger;
  /** Nameserver retry, debounce and unregister timing; the defaults unless a test shortens them. */
  registrationTiming?: RegistrarTiming;
}

export interface RunningBroker extends RunningService {
  /** host:port the broker registers with the nameservers (see config advertisedAddress). */
  advertisedAddress: string;
}

/**
 * Starts the broker: opens (and if needed recovers) its message store and its topic and group
 * metadata, serves gRPC (grpc.health.v1, apogee.broker.v1.BrokerAdmin, apogee.broker.v1.BrokerDispatch
 * for followers of the commit log, and apache.rocketmq.v2.MessagingService, whose POP consumer RPCs
 * run over PopConsumption with its state in the metadata store) and /metrics, then registers with
 * every configured nameserver.
 * DELAY messages wait in the TimerStore (<dataDir>/timer, checkpoints in the metadata store),
 * which fires them into their topics from the start until the stop. Open transactions of
 * TRANSACTION messages are recorded in the TransactionStore (metadata store), which checks
 * unresolved ones with a producer of their topic over its Telemetry stream.
 * Stopping unregisters from the nameservers (bounded wait), ends pending long polls and Follow
 * streams, closes the
 * servers (and the messaging service's nameserver channels), stops the timer and the transaction
 * checks, then flushes and
 * closes the store, then the metadata (which holds the POP offsets and in-flight records).
 * A slave (brokerId > 0) follows its master's commit log (replication/replica-follower.ts), refuses
 * producer writes (NOT_MASTER) and does not fire timers or check transactions (its master does;
 * the results arrive replicated); a master serves apogee.broker.v1.Replication to its slaves.
 * Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startBroker(config: BrokerConfig, deps: BrokerDeps = {}): Promise<RunningBroker> {
  validateBrokerConfig(config);
  const logger: Logger = deps.logger ?? createLogger({ app: APP, level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  const store = await openBrokerStore(config, logger);
  let metadata: BrokerMetadata | undefined;
  let service: RunningService | undefined;
  let messaging: MessagingService | undefined;
  let consumer: ConsumerHandlers | undefined;
  let dispatch: DispatchService | undefined;
  let timer: TimerStore | undefined;
  let transactions: TransactionStore | undefined;
  let replication: ReplicationService | undefined;
  let follower: ReplicaFollower | undefined;
  const masterAddress = config.brokerId > 0 ? config.masterAddress : undefined;
  let registration: ReturnType<typeof startBrokerRegistration>;
  const routes = createRouteSource(config.nameservers, logger.child({ component: 'messaging' }));
  try {
    metadata = await openBrokerMetadata(config, logger);
    const registry = createMetricsRegistry(APP);
    const metrics = createBrokerMetrics(registry, store, metadata);
    let boundPort = config.grpcPort;
    const consumption = await PopConsumption.open(metadata.store, store, {
      brokerName: config.brokerName,
      clock: systemClock,
      deadLetters: new DeadLetterQueue(store, metadata.topics),
      stateDurability: config.flushMode === 'SYNC' ? 'sync' : 'written',
    });
    const advertisedAddress = (): string => advertisedAddressOf(config, boundPort);
    timer = await TimerStore.open({
      dir: path.join(config.dataDir, 'timer'),
      store,
      checkpoints: await metadata.store.table<number>(TIMER_CHECKPOINT_TABLE),
      clock: systemClock,
      logger: logger.child({ component: 'timer' }),
    });
    if (masterAddress === undefined) timer.start(); // a slave's timers fire on its master (their messages arrive replicated)
    transactions = new TransactionStore({
      store,
      table: await metadata.store.table<PendingTransaction>(TRANSACTION_TABLE),
      clock: systemClock,
      logger: logger.child({ component: 'transaction' }),
      checkDelayMs: config.transactionCheckDelayMs,
      checkIntervalMs: config.transactionCheckIntervalMs,
      maxChecks: config.transactionMaxChecks,
      tickMs: Math.min(1_000, config.transactionCheckDelayMs, config.transactionCheckIntervalMs),
    });
    const routeDeps = {
      routes,
      brokerName: config.brokerName,
      brokerId: config.brokerId,
      autoCreateTopics: config.autoCreateTopics,
      advertisedAddress,
    };
    const consumerHandlers = createConsumerHandlers({ metadata, store, consumption, clock: systemClock, logger, route: routeDeps });
    consumer = consumerHandlers;
    const syncReplication = masterAddress === undefined && config.replicationMode === 'SYNC';
    replication = createReplicationService({
      store,
      brokerName: config.brokerName,
      masterAddress,
      clock: systemClock,
      logger,
      inSync: { inSyncMaxLagBytes: config.inSyncMaxLagBytes, degradeToAsync: config.syncDegradeToAsync },
    });
    const replicas = replication.replicas;
    const synced = config.flushMode === 'SYNC';
    messaging = createMessagingService({
      routes,
      config,
      metadata,
      store,
      logger,
      clock: systemClock,
      advertisedAddress,
      moreHandlers: consumer.handlers,
      onClientTermination: (clientId) => void consumerHandlers.releaseClient(clientId), // never rejects
      timer: { store: timer, maxDelayMs: config.timerMaxDelayMs },
      transactions,
      replicated: syncReplication
        ? { wait: (end) => replicas.waitReplicated(end, { synced }, config.syncReplicaTimeoutMs), logEnd: () => store.maxPhysicalOffset }
        : undefined,
    });
    const checker = messaging;
    if (masterAddress === undefined) transactions.start((check) => checker.checkTransaction(check));
    const admin = createBrokerAdminService(metadata, { store, consumption, clock: systemClock }, logger);
    dispatch = createDispatchService({
      store,
      brokerName: config.brokerName,
      knowsTopic: (topic) => metadata?.topics.get(topic) !== undefined,
      clock: systemClock,
      logger,
    });
    if (masterAddress !== undefined) {
      follower = new ReplicaFollower({
        store,
        masterAddress,
        brokerName: config.brokerName,
        brokerId: config.brokerId,
        address: advertisedAddress,
        logger,
      });
    }
    const slave = follower;
    createReplicationMetrics(
      registry,
      slave === undefined
        ? {
            lags: () => replicas.lags(),
            inSyncReplicas: () => replicas.inSyncReplicas().length,
            syncWaits: () => replicas.syncWaits,
          }
        : { masterLagBytes: () => slave.lagBytes },
    );
    const services = [admin, dispatch.registration, replication.registration, messaging.registration];
    service = await startService({ config, logger, registry, services });
    boundPort = service.grpcPort;
    follower?.start();
    const { topics } = metadata;
    const timing = deps.registrationTiming;
    registration = startBrokerRegistration({ config, boundPort: service.grpcPort, topics, metrics, logger, timing });
  } catch (err) {
    await follower?.stop();
    consumer?.close();
    dispatch?.close();
    replication?.close();
    await service?.stop();
    messaging?.close();
    routes.close();
    await transactions?.close();
    await timer?.close().catch((closeErr: unknown) => logger.error({ err: closeErr }, 'timer close after a failed start failed'));
    await closeStores(store, metadata, logger).catch((closeErr: unknown) =>
      logger.error({ err: closeErr }, 'close after a failed start failed'),
    );
    throw err;
  }
  const serving = service;
  const messagingService = messaging;
  const consumerHandlers = consumer;
  const dispatchService = dispatch;
  const replicationService = replication;
  const replicaFollower = follower;
  const timerStore = timer;
  const transactionStore = transactions;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        await registration.stop(); // leave the routes first, while still serving
        consumerHandlers.close(); // long polls answer now instead of holding up the shutdown
        dispatchService.close(); // Follow streams end (OK) so the server can shut down
        replicationService.close(); // likewise the streams to replicas
        await replicaFollower?.stop(); // before the store: a chunk being applied appends to it
        await serving.stop();
        messagingService.close();
        routes.close();
        await timerStore.close(); // before the store: a fire in progress appends to it
        await transactionStore.close(); // likewise for a commit by a check in progress
      } finally {
        await closeStores(store, metadata, logger);
      }
    })());
  return { ...serving, advertisedAddress: registration.address, stop };
}

/** Closes the message store, then the metadata (also when the store fails to close). */
async function closeStores(store: MessageStore, metadata: BrokerMetadata | undefined, logger: Logger): Promise<void> {
  try {
    await store.close();
    logger.info({}, 'store closed');
  } finally {
    if (metadata !== undefined) {
      await metadata.close();
      logger.info({}, 'metadata closed');
    }
  }
}
