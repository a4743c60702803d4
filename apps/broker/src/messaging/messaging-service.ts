/**
 * apache.rocketmq.v2.MessagingService for producers: QueryRoute, Telemetry, Heartbeat,
 * NotifyClientTermination, SendMessage, (with a timer store) RecallMessage and (with a
 * transaction store) EndTransaction, one handler file each. `checkTransaction` sends a
 * RecoverOrphanedTransactionCommand to a live producer of the message's topic (the transaction
 * store's checker). Unary handlers answer every outcome in-band (v2-unary.ts). The POP consumer RPCs (ReceiveMessage, AckMessage,
 * ChangeInvisibleDuration; consumer-handlers.ts) come in through `moreHandlers`. RPCs not
 * registered are answered UNIMPLEMENTED by grpc-js. With nameservers, FIFO sends go to their
 * message group's owner broker (fifo-router.ts); the channels to other brokers close in close().
 * On a slave (brokerId > 0) the write RPCs (SendMessage, EndTransaction, RecallMessage) answer
 * NOT_MASTER naming the master (replication/slave-writes.ts).
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { MESSAGING_SERVICE_NAME } from '@apogee/protocol';
import type { Clock, GrpcServiceRegistration, Logger } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import type { BrokerConfig } from '../config';
import type { BrokerMetadata } from '../metadata/open-metadata';
import type { TransactionCheck, TransactionStore } from '../transaction/transaction-store';
import { BrokerForwarder } from './broker-forwarder';
import { ClientRegistry } from './client-registry';
import { pulledMessage } from './delivered-message';
import { endTransactionHandler } from './end-transaction.handler';
import { messagingServerDefinition } from './frame-service';
import { FifoOwners } from './fifo-owner';
import { FifoRouter } from './fifo-router';
import { heartbeatHandler } from './heartbeat.handler';
import { notifyClientTerminationHandler } from './notify-client-termination.handler';
import { notMasterError } from '../replication/slave-writes';
import type { TimerStore } from '../timer/timer-store';
import { queryRouteHandler } from './query-route.handler';
import { QueuePicker } from './queue-picker';
import { createRouteSource, type RouteSource } from './route-source';
import { recallMessageHandler } from './recall-message.handler';
import { sendMessageHandler, type WriteGate } from './send-message.handler';
import { telemetryHandler } from './telemetry.handler';
import { v2UnaryCall, type V2UnaryHandler } from './v2-unary';

/** A client not heard from for this long is forgotten (RocketMQ's channel expiry: 120 s). */
export const CLIENT_SILENT_MS = 120_000;
const CLIENT_SWEEP_MS = 10_000;

export interface MessagingServiceDeps {
  readonly config: Pick<BrokerConfig, 'brokerName' | 'brokerId' | 'nameservers' | 'autoCreateTopics' | 'maxBodyBytes'> &
    Partial<Pick<BrokerConfig, 'pushLongPollingTimeoutMs' | 'masterAddress'>>;
  readonly metadata: Pick<BrokerMetadata, 'topics' | 'groups'>;
  readonly store: Pick<MessageStore, 'appendBatch'>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** host:port clients reach this broker at; known only once gRPC is bound. */
  readonly advertisedAddress: () => string;
  /** More RPCs of the same service (e.g. the consumer ones), served next to the producer ones. */
  readonly moreHandlers?: UntypedServiceImplementation;
  /** Called when a client is forgotten: it said it is leaving (NotifyClientTermination), or went silent for CLIENT_SILENT_MS. */
  readonly onClientTermination?: (clientId: string) => void;
  /** Route source shared with other handlers (closed by its owner); else one of its own, closed by close(). */
  readonly routes?: RouteSource;
  /** The broker's timer store: DELAY sends are accepted and RecallMessage served; absent: UNSUPPORTED. */
  readonly timer?: { readonly store: Pick<TimerStore, 'recall' | 'noteSent'>; readonly maxDelayMs: number };
  /** Whether writes are taken now (ha/broker-role.ts); absent: the role fixed by config.brokerId and masterAddress. */
  readonly writeGate?: WriteGate;
  /** The broker's transaction store: TRANSACTION sends are accepted and EndTransaction served; absent: UNSUPPORTED. */
  readonly transactions?: Pick<TransactionStore, 'recordHalf' | 'end'>;
  /**
   * Set on a master with replicationMode SYNC: `wait(end)` resolves once a slave confirmed the
   * commit log up to `end` (replication/replica-set.ts); `logEnd()` is the master's log end.
   */
  readonly replicated?: { readonly wait: (end: number) => Promise<void>; readonly logEnd: () => number };
}

export interface MessagingService {
  readonly registration: GrpcServiceRegistration;
  readonly clients: ClientRegistry;
  /** Asks a live producer of the topic to check the transaction; false when there is none. */
  checkTransaction(check: TransactionCheck): boolean;
  /** Closes the nameserver channels used for routes and the channels to other brokers. */
  close(): void;
}

export function createMessagingService(deps: MessagingServiceDeps): MessagingService {
  const { config, metadata, logger, clock } = deps;
  const log = logger.child({ component: 'messaging' });
  const clients = new ClientRegistry(clock);
  // clients heartbeat every 10 s; one silent for CLIENT_SILENT_MS is gone, as if it had said so
  const sweep = setInterval(() => {
    for (const clientId of clients.evictSilent(CLIENT_SILENT_MS)) deps.onClientTermination?.(clientId);
  }, CLIENT_SWEEP_MS);
  sweep.unref();
  const ownsRoutes = deps.routes === undefined;
  const routes = deps.routes ?? createRouteSource(config.nameservers, log);
  const timerDeps = deps.timer;
  const writeGate = deps.writeGate ?? configuredRole(config);
  /** While writes are refused (a slave, a master without its lease), a write RPC answers the refusal instead of running. */
  const writeRpc =
    <Req, Res>(method: string, handle: V2UnaryHandler<Req, Res>): V2UnaryHandler<Req, Res> =>
    (request, context) => {
      const refused = writeGate.writeRefusal(method);
      if (refused !== undefined) throw refused;
      return handle(request, context);
    };
  const forwarder = config.nameservers.length > 0 ? new BrokerForwarder({ brokerName: config.brokerName }) : undefined;
  const fifo =
    forwarder === undefined ? undefined : new FifoRouter(new FifoOwners({ routes, brokerName: config.brokerName, clock }), forwarder);
  const sync = deps.replicated;
  const replicatedCommit = sync === undefined ? undefined : (): Promise<void> => sync.wait(sync.logEnd());
  const implementation: UntypedServiceImplementation = {
    QueryRoute: v2UnaryCall(
      'QueryRoute',
      log,
      queryRouteHandler({
        topics: metadata.topics,
        routes,
        brokerName: config.brokerName,
        brokerId: config.brokerId,
        advertisedAddress: deps.advertisedAddress,
      }),
    ),
    Telemetry: telemetryHandler({
      clients,
      logger: log,
      maxBodyBytes: config.maxBodyBytes,
      pushLongPollingTimeoutMs: config.pushLongPollingTimeoutMs,
      groupOf: (name) => metadata.groups.get(name),
    }),
    Heartbeat: v2UnaryCall('Heartbeat', log, heartbeatHandler(clients)),
    NotifyClientTermination: v2UnaryCall('NotifyClientTermination', log, notifyClientTerminationHandler(clients, deps.onClientTermination)),
    SendMessage: v2UnaryCall(
      'SendMessage',
      log,
      sendMessageHandler({
        topics: metadata.topics,
        store: deps.store,
        queues: new QueuePicker(config.brokerName),
        maxBodyBytes: config.maxBodyBytes,
        clock,
        delay:
          timerDeps === undefined
            ? undefined
            : {
                maxDelayMs: timerDeps.maxDelayMs,
                brokerName: config.brokerName,
                noteSent: (record, dueMs) => timerDeps.store.noteSent(record, dueMs),
              },
        transactions: deps.transactions,
        fifo,
        writeGate,
        replicated: deps.replicated?.wait,
      }),
    ),
    ...(deps.transactions === undefined
      ? {}
      : {
          EndTransaction: v2UnaryCall(
            'EndTransaction',
            log,
            writeRpc('EndTransaction', endTransactionHandler({ transactions: deps.transactions, logger: log, replicated: replicatedCommit })),
          ),
        }),
    ...(timerDeps === undefined
      ? {}
      : {
          RecallMessage: v2UnaryCall(
            'RecallMessage',
            log,
            writeRpc('RecallMessage', recallMessageHandler({ timer: timerDeps.store, brokerName: config.brokerName })),
          ),
        }),
    ...deps.moreHandlers,
  };
  return {
    registration: { name: MESSAGING_SERVICE_NAME, definition: messagingServerDefinition(), implementation },
    clients,
    checkTransaction: (check) => {
      const topic = metadata.topics.get(check.message.topic);
      if (topic === undefined) return false;
      const command = { recover_orphaned_transaction_command: { message: pulledMessage(check.message, topic), transaction_id: check.transactionId } };
      return clients.sendToProducerOf(topic.name, command);
    },
    close: () => {
      clearInterval(sweep);
      forwarder?.close();
      if (ownsRoutes) routes.close();
    },
  };
}

/** A slave by configuration (broker id > 0) refuses every write with NOT_MASTER; a master takes them. */
function configuredRole(config: MessagingServiceDeps['config']): WriteGate {
  if (config.brokerId === 0) return { writeRefusal: () => undefined };
  const master = config.masterAddress ?? '(masterAddress not set)';
  return { writeRefusal: (what) => notMasterError(what, config.brokerName, master) };
}
