/**
 * apogee.broker.v1.BrokerDispatch (proto/apogee/broker/v1/dispatch.proto) over the broker's
 * message store: Follow (follow.handler.ts), GetMessages (get-messages.handler.ts) and
 * MessagesByTime (messages-by-time.handler.ts). Records of the broker's internal topics are not
 * shown (internal-topics.ts). close() ends every Follow stream (with OK) so the gRPC server can
 * shut down; call it before stopping the server.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { BROKER_DISPATCH_SERVICE, loadBrokerDispatchService } from '@apogee/protocol';
import { unaryCall, type Clock, type GrpcServiceRegistration, type Logger } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import { followHandler } from './follow.handler';
import { getMessagesHandler } from './get-messages.handler';
import { isHiddenTopic } from './internal-topics';
import { messagesByTimeHandler, type TimeStore } from './messages-by-time.handler';
import { WriteWaiter } from './write-waiter';

export type DispatchStore = TimeStore & Pick<MessageStore, 'scanFrom' | 'maxPhysicalOffset' | 'onDispatch'>;

export interface DispatchServiceDeps {
  readonly store: DispatchStore;
  readonly brokerName: string;
  /** Whether the broker's topic metadata knows a topic (MessagesByTime of a topic with no message yet). */
  readonly knowsTopic: (topic: string) => boolean;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface DispatchService {
  readonly registration: GrpcServiceRegistration;
  /** Ends every Follow stream now and stops waiting for writes. Idempotent. */
  close(): void;
}

export function createDispatchService(deps: DispatchServiceDeps): DispatchService {
  const { store, brokerName } = deps;
  const logger = deps.logger.child({ component: 'dispatch' });
  const waiter = new WriteWaiter(store);
  const closing = new AbortController();
  const isHidden = isHiddenTopic;
  const unary = (method: string, handle: (request: never) => unknown): UntypedServiceImplementation[string] =>
    unaryCall({ method, logger, refusalLevel: 'debug' }, handle as (request: unknown) => unknown);
  const implementation: UntypedServiceImplementation = {
    Follow: followHandler({ store, brokerName, waiter, isHidden, now: () => deps.clock.now(), logger, closed: closing.signal }),
    GetMessages: unary('GetMessages', getMessagesHandler({ store, brokerName, isHidden })),
    MessagesByTime: unary('MessagesByTime', messagesByTimeHandler({ store, brokerName, knowsTopic: deps.knowsTopic, isHidden })),
  };
  return {
    registration: { name: BROKER_DISPATCH_SERVICE, definition: loadBrokerDispatchService().service, implementation },
    close: () => {
      closing.abort();
      waiter.close();
    },
  };
}
