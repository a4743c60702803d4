/**
 * The consumer RPCs of apache.rocketmq.v2.MessagingService — POP: QueryAssignment, ReceiveMessage,
 * AckMessage, ChangeInvisibleDuration; offset-based pull: PullMessage, GetOffset, UpdateOffset and
 * QueryOffset — for createMessagingService's `moreHandlers`. close() ends every long-polling
 * ReceiveMessage and PullMessage at once (answered MESSAGE_NOT_FOUND) so gRPC can shut down
 * without waiting out the polls; call it before stopping the server.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Clock, Logger } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import type { PopConsumption } from '../consumer/pop-consumption';
import type { BrokerMetadata } from '../metadata/open-metadata';
import { ClientLeases } from '../consumer/client-leases';
import { ackMessageHandler } from './ack-message.handler';
import { ArrivalNotifier } from './arrival-notifier';
import { changeInvisibleDurationHandler } from './change-invisible-duration.handler';
import { forwardToDeadLetterHandler } from './forward-to-dead-letter.handler';
import { getOffsetHandler } from './get-offset.handler';
import { pullMessageHandler } from './pull-message.handler';
import { queryAssignmentHandler } from './query-assignment.handler';
import { queryOffsetHandler } from './query-offset.handler';
import type { QueryRouteDeps } from './query-route.handler';
import { receiveMessageHandler, releaseClientLeases } from './receive-message.handler';
import { updateOffsetHandler } from './update-offset.handler';
import { v2UnaryCall } from './v2-unary';

export interface ConsumerHandlersDeps {
  readonly metadata: Pick<BrokerMetadata, 'topics' | 'groups'>;
  readonly store: Pick<MessageStore, 'queueRange' | 'offsetAtTime' | 'onDispatch' | 'entries' | 'readMany'>;
  readonly consumption: PopConsumption;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where QueryAssignment takes the topic's route from: the same sources as QueryRoute. */
  readonly route: Omit<QueryRouteDeps, 'topics'>;
}

export interface ConsumerHandlers {
  readonly handlers: UntypedServiceImplementation;
  /** A client said it is leaving: what it held from auto_renew pops becomes visible again soon; resolves with how many. */
  releaseClient(clientId: string): Promise<number>;
  close(): void;
}

export function createConsumerHandlers(deps: ConsumerHandlersDeps): ConsumerHandlers {
  const logger = deps.logger.child({ component: 'consumer' });
  const notifier = new ArrivalNotifier(deps.store);
  const { consumption, clock } = deps;
  const leases = new ClientLeases();
  const handlers: UntypedServiceImplementation = {
    QueryAssignment: v2UnaryCall(
      'QueryAssignment',
      logger,
      queryAssignmentHandler({ ...deps.route, topics: deps.metadata.topics, groups: deps.metadata.groups }),
    ),
    ReceiveMessage: receiveMessageHandler({
      topics: deps.metadata.topics,
      groups: deps.metadata.groups,
      store: deps.store,
      consumption,
      notifier,
      clock,
      logger,
      leases,
    }),
    QueryOffset: v2UnaryCall('QueryOffset', logger, queryOffsetHandler({ topics: deps.metadata.topics, store: deps.store })),
    PullMessage: pullMessageHandler({ topics: deps.metadata.topics, groups: deps.metadata.groups, store: deps.store, notifier, clock, logger }),
    GetOffset: v2UnaryCall(
      'GetOffset',
      logger,
      getOffsetHandler({ topics: deps.metadata.topics, groups: deps.metadata.groups, offsets: consumption.offsets }),
    ),
    UpdateOffset: v2UnaryCall(
      'UpdateOffset',
      logger,
      updateOffsetHandler({ topics: deps.metadata.topics, groups: deps.metadata.groups, store: deps.store, consumption }),
    ),
    AckMessage: v2UnaryCall('AckMessage', logger, ackMessageHandler({ consumption, groups: deps.metadata.groups, logger, leases })),
    ForwardMessageToDeadLetterQueue: v2UnaryCall('ForwardMessageToDeadLetterQueue', logger, forwardToDeadLetterHandler({ consumption, groups: deps.metadata.groups, leases })),
    ChangeInvisibleDuration: v2UnaryCall('ChangeInvisibleDuration', logger, changeInvisibleDurationHandler({ consumption, groups: deps.metadata.groups, logger, leases })),
  };
  return {
    handlers,
    releaseClient: (clientId) => releaseClientLeases({ consumption, clock, logger }, leases, clientId),
    close: () => notifier.close(),
  };
}
