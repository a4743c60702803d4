/**
 * apogee.broker.v1.Replication (proto/apogee/broker/v1/replication.proto) on the master: the
 * Replicate handler (replicate.handler.ts) over the broker's message store, SyncMetadata
 * (metadata-sync.ts), and the ReplicaSet
 * of connected slaves (lag metrics, the in-sync set SYNC replication waits on). A broker that is not
 * the master refuses every replica (its role's replicaRefusal, NOT_MASTER).
 * close() ends every stream (with OK) so the gRPC server can shut down; call it before stopping
 * the server.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { ApogeeError, BROKER_REPLICATION_SERVICE, loadReplicationService, type WireMetadataSnapshot } from '@apogee/protocol';
import { unaryCall, type Clock, type GrpcServiceRegistration, type Logger } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import { WriteWaiter } from '../dispatch/write-waiter';
import { ReplicaSet, type InSyncOptions } from './replica-set';
import { replicateHandler, type ReplicationSourceRole, type ReplicationSourceStore } from './replicate.handler';

export interface ReplicationServiceDeps {
  readonly store: ReplicationSourceStore & Pick<MessageStore, 'onDispatch'>;
  readonly brokerName: string;
  /** Whether replicas are served now, and the epochs (replicate.handler.ts); absent: always a master at epoch 0. */
  readonly role?: ReplicationSourceRole;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Heartbeat period of caught-up streams (default 1 s; tests shorten it). */
  readonly heartbeatMs?: number;
  /** SyncMetadata on a master (metadata-sync.ts answerSyncMetadata), given the slave's own positions; absent: NOT_IMPLEMENTED. */
  readonly syncMetadata?: (slavePositionsJson: string | undefined) => Promise<WireMetadataSnapshot>;
  /** The in-sync rule of SYNC replication (replica-set.ts); default: every connected replica is in sync. */
  readonly inSync?: Omit<InSyncOptions, 'brokerName' | 'logger'>;
}

export interface ReplicationService {
  readonly registration: GrpcServiceRegistration;
  readonly replicas: ReplicaSet;
  /** Ends every Replicate stream now and stops waiting for writes. Idempotent. */
  close(): void;
}

export function createReplicationService(deps: ReplicationServiceDeps): ReplicationService {
  const { store } = deps;
  const waiter = new WriteWaiter(store);
  const closing = new AbortController();
  const now = (): number => deps.clock.now();
  const replicas = new ReplicaSet(
    () => store.maxPhysicalOffset,
    now,
    deps.inSync === undefined
      ? undefined
      : { ...deps.inSync, brokerName: deps.brokerName, logger: deps.logger.child({ component: 'replication' }) },
  );
  const syncMetadata = (request: { positions_json?: string }): Promise<WireMetadataSnapshot> => {
    const refusal = deps.role?.replicaRefusal();
    if (refusal !== undefined) throw refusal;
    if (deps.syncMetadata === undefined) throw new ApogeeError('NOT_IMPLEMENTED', 'This broker does not serve SyncMetadata');
    return deps.syncMetadata(request.positions_json);
  };
  const implementation: UntypedServiceImplementation = {
    SyncMetadata: unaryCall({ method: 'SyncMetadata', logger: deps.logger, refusalLevel: 'debug' }, syncMetadata),
    Replicate: replicateHandler({
      store,
      brokerName: deps.brokerName,
      role: deps.role,
      replicas,
      waiter,
      now,
      logger: deps.logger.child({ component: 'replication' }),
      closed: closing.signal,
      heartbeatMs: deps.heartbeatMs,
    }),
  };
  return {
    registration: { name: BROKER_REPLICATION_SERVICE, definition: loadReplicationService().service, implementation },
    replicas,
    close: () => {
      closing.abort();
      waiter.close();
      replicas.close();
    },
  };
}
