import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  BROKER_ADMIN_SERVICE,
  loadBrokerAdminService,
  type BrokerAdminHandlers,
} from '@apogee/protocol';
import { unaryCall, type Clock, type GrpcServiceRegistration, type Logger } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import type { PopConsumption } from '../consumer/pop-consumption';
import type { BrokerMetadata } from '../metadata/open-metadata';
import { groupAdminHandlers } from './group-admin';
import { groupProgressHandlers, type GroupProgressDeps } from './group-progress';
import { offsetAdminHandlers } from './offset-admin';
import { configAdminHandlers, type BrokerConfigAccess } from './config-admin';
import { replicationStatusHandlers, type ReplicationStatusView } from './replication-status';
import { topicAdminHandlers } from './topic-admin';
import { topicStatsHandlers } from './topic-stats';

/** What ResetOffset and GroupProgress work on besides the metadata: the queues and the POP positions. */
export interface OffsetAdminSources {
  readonly store: Pick<MessageStore, 'offsetAtTime' | 'queueRange' | 'entries' | 'read' | 'queueIds' | 'readQueue'>;
  readonly consumption: Pick<PopConsumption, 'resetPosition' | 'offsets' | 'inflight' | 'nextOffset'>;
  readonly clock: Clock;
  /**
   * The broker's replication state now, for ReplicationStatus (replication-status.ts:
   * replicationStatusView). Without it ReplicationStatus answers NOT_IMPLEMENTED.
   */
  readonly replication?: () => ReplicationStatusView;
  /**
   * The broker's config, for GetConfig and SetConfig (config-admin.ts), with the fields that may
   * change at run time. Without it both answer NOT_IMPLEMENTED.
   */
  readonly config?: BrokerConfigAccess;
  /** The group's consumers connected now, for GroupProgress (the messaging service's ClientRegistry). */
  readonly consumers?: GroupProgressDeps['consumers'];
}

/**
 * apogee.broker.v1.BrokerAdmin over the broker's topic and group registries, its POP positions,
 * its queues (TopicStats), (ReplicationStatus) its replication state and (GetConfig, SetConfig)
 * its config.
 */
export function createBrokerAdminService(
  metadata: Pick<BrokerMetadata, 'topics' | 'groups'>,
  sources: OffsetAdminSources,
  logger: Logger,
): GrpcServiceRegistration {
  const log = logger.child({ component: 'admin' });
  const handlers: BrokerAdminHandlers = {
    ...topicAdminHandlers(metadata.topics),
    ...groupAdminHandlers(metadata.groups),
    ...offsetAdminHandlers({ topics: metadata.topics, groups: metadata.groups, ...sources }),
    ...groupProgressHandlers({ topics: metadata.topics, groups: metadata.groups, ...sources }),
    ...replicationStatusHandlers(sources.replication),
    ...topicStatsHandlers({ topics: metadata.topics, store: sources.store }),
    ...configAdminHandlers(sources.config, log),
  };
  const implementation: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    implementation[method] = unaryCall({ method, logger: log, refusalLevel: 'debug' }, handler as (request: unknown) => Promise<unknown>);
  }
  return { name: BROKER_ADMIN_SERVICE, definition: loadBrokerAdminService().service, implementation };
}
