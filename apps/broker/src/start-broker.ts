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
import { replicationStatusView, type ReplicationStatusView } from './admin/replication-status';
import { DeadLetterQueue } from './consumer/dead-letter-queue';
import { createDispatchService, type DispatchService } from './dispatch/dispatch-service';
import { PopConsumption } from './consumer/pop-consumption';
import { createConsumerHandlers, type ConsumerHandlers } from './messaging/consumer-handlers';
import { APP, validateBrokerConfig, type BrokerConfig } from './config';
import { openBrokerMetadata, type BrokerMetadata } from './metadata/open-metadata';
import { createMessagingService, type MessagingService } from './messaging/messaging-service';
import { createRouteSource } from './messaging/route-source';
import { createBrokerMetrics, createBrokerStateMetrics, createReplicationMetrics, createTrafficMetrics } from './metrics';
import { instrumentMessaging, startFlushProbe } from './traffic-metrics';
import { openBrokerStore } from './open-store';
import { startBrokerRegistration } from './registration/broker-registration';
import { advertisedAddressOf } from './registration/advertised-address';
import { answerSyncMetadata, MetadataFollower } from './replication/metadata-sync';
import { ReplicaFollower } from './replication/replica-follower';
import { createReplicationService, type ReplicationService } from './replication/replication-service';
import type { RegistrarTiming } from './registration/nameserver-registrar';
import { TIMER_CHECKPOINT_TABLE, TimerStore } from './timer/timer-store';
import { BrokerRole } from './ha/broker-role';
import { EpochHistory } from './ha/epoch-history';
import { HaAgent } from './ha/ha-agent';
import { RoleRunner } from './ha/role-runner';
import { TRANSACTION_TABLE, TransactionStore, type PendingTransaction } from './transaction/transaction-store';

/** How often a slave copies its master's topics, groups and consumer positions. */
const METADATA_SYNC_MS = 1_000;

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
 * A slave follows its master's commit log (replication/replica-follower.ts), refuses producer
 * writes (NOT_MASTER) and does not fire timers or check transactions (its master does; the
 * results arrive replicated); a master serves apogee.broker.v1.Replication to its slaves. Without
 * haReplicators the role is fixed by brokerId (0: master) and masterAddress; with them the broker
 * starts as STANDBY and the acting ha-replicator assigns its role, leases it mastership and fails
 * over (ha/: BrokerRole, RoleRunner, HaAgent; docs/decisions/0007-failover.md).
 * Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startBroker(config: BrokerConfig, deps: BrokerDeps = {}): Promise<RunningBroker> {
  validateBrokerConfig(config);
  const logger: Logger = (deps.logger ?? createLogger({ app: APP, level: config.logLevel })).child({ broker: config.brokerName });
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
  let runner: RoleRunner | undefined;
  let agent: HaAgent | undefined;
  const haControlled = config.haReplicators.length > 0;
  let registration: ReturnType<typeof startBrokerRegistration> | undefined;
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
    const ownAddress = (): string => advertisedAddressOf(config, boundPort);
    const epochs = await EpochHistory.open(metadata.store);
    const role = new BrokerRole(
      { brokerName: config.brokerName, haControlled, clock: systemClock },
      { role: 'STANDBY', routeBrokerId: config.brokerId },
    );
    /** Where clients reach this broker: the group's service address while it is master there. */
    const advertisedAddress = (): string => (role.isMaster && config.serviceAddress !== '' ? config.serviceAddress : ownAddress());
    timer = await TimerStore.open({
      dir: path.join(config.dataDir, 'timer'),
      store,
      checkpoints: await metadata.store.table<number>(TIMER_CHECKPOINT_TABLE),
      clock: systemClock,
      logger: logger.child({ component: 'timer' }),
    });
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
      advertisedAddress,
    };
    const metadataTables = { topics: metadata.topics, groups: metadata.groups, offsets: consumption.offsets, transactions };
    const consumerHandlers = createConsumerHandlers({ metadata, store, consumption, clock: systemClock, logger, route: routeDeps });
    consumer = consumerHandlers;
    const syncReplication = config.replicationMode === 'SYNC';
    replication = createReplicationService({
      store,
      brokerName: config.brokerName,
      role: {
        replicaRefusal: () => (role.isMaster ? undefined : role.writeRefusal('Replicate')),
        get epoch() {
          return epochs.lastEpoch;
        },
        endOffsetOf: (epoch) => epochs.endOffsetOf(epoch, store.maxPhysicalOffset),
      },
      syncMetadata: (slavePositions) => answerSyncMetadata(metadataTables, slavePositions),
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
      writeGate: role,
      replicated: syncReplication
        ? { wait: (end) => replicas.waitReplicated(end, { synced }, config.syncReplicaTimeoutMs), logEnd: () => store.maxPhysicalOffset }
        : undefined,
    });
    const checker = messaging;
    const replicationStatus = (): ReplicationStatusView =>
      replicationStatusView({ role, epochs, store, replicas, follower: runner?.currentFollower, replicationMode: config.replicationMode, clock: systemClock });
    const { topics: topicRegistry, groups: groupRegistry } = metadata;
    const clientRegistry = messaging.clients;
    const configAccess = {
      config,
      runtime: {
        autoCreateTopics: (on: boolean) => topicRegistry.setAutoCreateTopics(on),
        autoCreateGroups: (on: boolean) => groupRegistry.setAutoCreateGroups(on),
      },
    };
    const admin = createBrokerAdminService(
      metadata,
      {
        store,
        consumption,
        clock: systemClock,
        replication: replicationStatus,
        config: configAccess,
        consumers: (group) => clientRegistry.consumersOf(group),
      },
      logger,
    );
    const knowsTopic = (topic: string): boolean => topicRegistry.get(topic) !== undefined;
    dispatch = createDispatchService({
      store,
      brokerName: config.brokerName,
      knowsTopic,
      clock: systemClock,
      logger,
    });
    const replicationMetrics = createReplicationMetrics(registry, {
      lags: () => replicas.lags(),
      inSyncReplicas: () => replicas.inSyncReplicas().length,
      syncWaits: () => replicas.syncWaits,
      masterLagBytes: () => runner?.currentFollower?.lagBytes ?? 0,
    });
    store.onTruncate((cut) => replicationMetrics.truncatedBytes.inc(cut.bytesCut));
    const stateMetrics = createBrokerStateMetrics(registry, {
      store,
      storeDir: path.join(config.dataDir, 'store'),
      pendingTimers: () => timer?.pendingEntries() ?? Promise.resolve(0),
      pendingTransactions: () => transactions?.pending ?? 0,
      consumption,
      groups: () => metadata?.groups.list().map((g) => g.name) ?? [],
      isMaster: () => role.isMaster,
      clock: systemClock,
    });
    startFlushProbe(store, stateMetrics.flushLatency); // ends with the store
    const messagingRegistration = instrumentMessaging(messaging.registration, createTrafficMetrics(registry), knowsTopic);
    const services = [admin, dispatch.registration, replication.registration, messagingRegistration];
    service = await startService({ config, logger, registry, services });
    boundPort = service.grpcPort;
    const { topics } = metadata;
    const timing = deps.registrationTiming;
    const identity = (): { brokerId: number; address: string } => ({ brokerId: role.state.routeBrokerId, address: advertisedAddress() });
    const roleRunner: RoleRunner = new RoleRunner({
      role,
      epochs,
      store,
      timer,
      transactions,
      checkTransaction: (check) => checker.checkTransaction(check),
      follower: (masterAddress, routeBrokerId): ReplicaFollower =>
        new ReplicaFollower({
          store,
          masterAddress,
          brokerName: config.brokerName,
          brokerId: routeBrokerId,
          address: ownAddress,
          logger,
          lastEpoch: () => epochs.lastEpoch,
          truncate: (to): Promise<void> => roleRunner.truncate(to),
        }),
      metadataFollower: (masterAddress) =>
        new MetadataFollower({ masterAddress, tables: metadataTables, intervalMs: METADATA_SYNC_MS, logger: logger.child({ component: 'replication' }) }),
      service,
      serviceAddress: config.serviceAddress,
      // A role change re-registers under the new identity; under an ha-replicator the first role starts the registration.
      reregister: () => {
        if (registration !== undefined) registration.refresh();
        else if (haControlled) registration = startBrokerRegistration({ config, boundPort, topics, metrics, logger, timing, identity });
      },
      logger,
    });
    runner = roleRunner;
    if (haControlled) {
      agent = new HaAgent({
        haReplicators: config.haReplicators,
        heartbeatMs: config.haHeartbeatMs,
        clusterName: config.clusterName,
        brokerName: config.brokerName,
        replicaId: config.brokerId,
        replicationMode: config.replicationMode,
        address: ownAddress,
        role,
        epochs,
        store,
        replicas,
        runner: roleRunner,
        clock: systemClock,
        logger,
      });
      agent.start();
    } else if (config.brokerId === 0) {
      await roleRunner.becomeMaster(0);
    } else {
      await roleRunner.becomeSlave(config.masterAddress, config.brokerId, 0, -1);
    }
    // Under an ha-replicator the broker registers once it has a role (reregister above), never as STANDBY.
    if (!haControlled) registration ??= startBrokerRegistration({ config, boundPort, topics, metrics, logger, timing });
  } catch (err) {
    await agent?.stop();
    await runner?.stop();
    await registration?.stop();
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
  const haAgent = agent;
  const roleRunner = runner as RoleRunner;
  const timerStore = timer;
  const transactionStore = transactions;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        await haAgent?.stop(); // no more role changes
        await registration?.stop(); // leave the routes first, while still serving
        consumerHandlers.close(); // long polls answer now instead of holding up the shutdown
        dispatchService.close(); // Follow streams end (OK) so the server can shut down
        replicationService.close(); // likewise the streams to replicas
        await roleRunner.stop(); // before the store: a chunk being applied appends to it
        await serving.stop();
        messagingService.close();
        routes.close();
        await timerStore.close(); // before the store: a fire in progress appends to it
        await transactionStore.close(); // likewise for a commit by a check in progress
      } finally {
        await closeStores(store, metadata, logger);
      }
    })());
  return { ...serving, advertisedAddress: advertisedAddressOf(config, serving.grpcPort), stop };
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
