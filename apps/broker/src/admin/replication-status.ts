/**
 * BrokerAdmin.ReplicationStatus: where this broker stands in its broker group's replication, for
 * `apogee cluster status`. Read from memory only (no I/O, touches no state):
 *
 * - every broker: its role (BrokerRole), the id it registers under, its last epoch
 *   (EpochHistory), where its commit log ends and the configured replication mode;
 * - a master: every replica connected now (ReplicaSet) with its written and synced ends, its lag
 *   in bytes and seconds (as the replication metrics measure it: ReplicaSet.lags()), whether it is
 *   in the in-sync set, and how long ago it last reported;
 * - a slave: the master it follows (its role's masterAddress), whether the stream is up, the
 *   master's log end as of its last chunk and how far behind that this broker is (ReplicaFollower).
 *
 * The broker hands the service a `() => ReplicationStatusView`; replicationStatusView() builds it
 * from the live objects. Without one (a broker wired without replication) the RPC answers
 * NOT_IMPLEMENTED, which clients show as "no replication state".
 */
import { ApogeeError, type BrokerAdminHandlers, type BrokerAdminMethods } from '@apogee/protocol';
import type { Clock } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import type { BrokerRole, RoleName } from '../ha/broker-role';
import type { EpochHistory } from '../ha/epoch-history';
import type { ReplicaFollower } from '../replication/replica-follower';
import type { ReplicaSet } from '../replication/replica-set';

type ReplicationStatusResponse = BrokerAdminMethods['ReplicationStatus'][1];

export type ReplicationModeName = 'ASYNC' | 'SYNC';

/** A replica connected to this master. */
export interface ConnectedReplicaView {
  readonly brokerId: number;
  /** host:port the replica says it is reached at ('' when it did not say). */
  readonly address: string;
  readonly writtenOffset: number;
  readonly syncedOffset: number;
  readonly lagBytes: number;
  readonly lagSeconds: number;
  readonly inSync: boolean;
  readonly lastReportAgeMs: number;
}

/** The master this slave follows. */
export interface FollowedMasterView {
  readonly address: string;
  readonly connected: boolean;
  /** The master's log end as of its last chunk (0 before the first). */
  readonly masterMaxOffset: number;
  /** Bytes this broker is behind masterMaxOffset. */
  readonly lagBytes: number;
}

/** One broker's replication state, as ReplicationStatus answers it. */
export interface ReplicationStatusView {
  readonly role: RoleName;
  /** The id the broker registers under (0 while master). */
  readonly brokerId: number;
  readonly epoch: number;
  /** Where the commit log ends (max physical offset). */
  readonly maxOffset: number;
  readonly replicationMode: ReplicationModeName;
  /** MASTER: the replicas connected now (empty otherwise). */
  readonly replicas: readonly ConnectedReplicaView[];
  /** SLAVE: the master it follows. */
  readonly master?: FollowedMasterView;
}

/** The live objects a broker builds the view from (start-broker.ts has them all in scope). */
export interface ReplicationSources {
  readonly role: Pick<BrokerRole, 'state'>;
  readonly epochs: Pick<EpochHistory, 'lastEpoch'>;
  readonly store: Pick<MessageStore, 'maxPhysicalOffset'>;
  readonly replicas: Pick<ReplicaSet, 'list' | 'lags' | 'inSyncReplicas'>;
  /** The follower of the master while a slave (RoleRunner.currentFollower), else undefined. */
  readonly follower: Pick<ReplicaFollower, 'isConnected' | 'masterMaxOffset' | 'lagBytes'> | undefined;
  readonly replicationMode: ReplicationModeName;
  readonly clock: Clock;
}

/** The broker's replication state now. */
export function replicationStatusView(sources: ReplicationSources): ReplicationStatusView {
  const { role, masterAddress, routeBrokerId } = sources.role.state;
  const base = {
    role,
    brokerId: routeBrokerId,
    epoch: sources.epochs.lastEpoch,
    maxOffset: sources.store.maxPhysicalOffset,
    replicationMode: sources.replicationMode,
  };
  if (role === 'SLAVE') {
    const follower = sources.follower;
    return {
      ...base,
      replicas: [],
      master: {
        address: masterAddress ?? '',
        connected: follower?.isConnected ?? false,
        masterMaxOffset: follower?.masterMaxOffset ?? 0,
        lagBytes: follower?.lagBytes ?? 0,
      },
    };
  }
  if (role !== 'MASTER') return { ...base, replicas: [] };
  const nowMs = sources.clock.now();
  const lags = new Map(sources.replicas.lags().map((lag) => [lag.replica, lag]));
  const inSync = new Set(sources.replicas.inSyncReplicas());
  const replicas = sources.replicas
    .list()
    .map((r): ConnectedReplicaView => {
      const lag = lags.get(String(r.brokerId));
      return {
        brokerId: r.brokerId,
        address: r.address,
        writtenOffset: r.writtenOffset,
        syncedOffset: r.syncedOffset,
        lagBytes: lag?.bytes ?? 0,
        lagSeconds: lag?.seconds ?? 0,
        inSync: inSync.has(r.brokerId),
        lastReportAgeMs: Math.max(0, nowMs - r.lastReportMs),
      };
    })
    .sort((a, b) => a.brokerId - b.brokerId);
  return { ...base, replicas };
}

/** The view in the wire shape of ReplicationStatusResponse. */
export function replicationStatusResponse(view: ReplicationStatusView): ReplicationStatusResponse {
  return {
    role: view.role,
    broker_id: view.brokerId,
    epoch: view.epoch,
    max_offset: view.maxOffset,
    replication_mode: view.replicationMode,
    replicas: view.replicas.map((r) => ({
      broker_id: r.brokerId,
      address: r.address,
      written_offset: r.writtenOffset,
      synced_offset: r.syncedOffset,
      lag_bytes: r.lagBytes,
      lag_seconds: r.lagSeconds,
      in_sync: r.inSync,
      last_report_age_ms: r.lastReportAgeMs,
    })),
    ...(view.master === undefined
      ? {}
      : {
          master: {
            address: view.master.address,
            connected: view.master.connected,
            master_max_offset: view.master.masterMaxOffset,
            lag_bytes: view.master.lagBytes,
          },
        }),
  };
}

export function replicationStatusHandlers(
  replication: (() => ReplicationStatusView) | undefined,
): Pick<BrokerAdminHandlers, 'ReplicationStatus'> {
  return {
    ReplicationStatus: async () => {
      if (replication === undefined) {
        throw new ApogeeError('NOT_IMPLEMENTED', 'ReplicationStatus: this broker was started without replication state to report');
      }
      return replicationStatusResponse(replication());
    },
  };
}
