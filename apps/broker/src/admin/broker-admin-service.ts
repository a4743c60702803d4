import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  BROKER_ADMIN_SERVICE,
  loadBrokerAdminService,
  type BrokerAdminHandlers,
} from '@apogee/protocol';
import { unaryCall, type GrpcServiceRegistration, type Logger } from '@apogee/runtime';
import type { BrokerMetadata } from '../metadata/open-metadata';
import { groupAdminHandlers } from './group-admin';
import { topicAdminHandlers } from './topic-admin';

/** apogee.broker.v1.BrokerAdmin over the broker's topic and group registries. */
export function createBrokerAdminService(
  metadata: Pick<BrokerMetadata, 'topics' | 'groups'>,
  logger: Logger,
): GrpcServiceRegistration {
  const handlers: BrokerAdminHandlers = { ...topicAdminHandlers(metadata.topics), ...groupAdminHandlers(metadata.groups) };
  const log = logger.child({ component: 'admin' });
  const implementation: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    implementation[method] = unaryCall({ method, logger: log, refusalLevel: 'debug' }, handler as (request: unknown) => Promise<unknown>);
  }
  return { name: BROKER_ADMIN_SERVICE, definition: loadBrokerAdminService().service, implementation };
}
