import { ApogeeError } from '@apogee/protocol';
import type { RoleState } from '../ha/broker-role';
import type { ReplicaState } from '../replication/replica-set';
import { replicationStatusHandlers, replicationStatusView, type ReplicationSources } from './replication-status';

const NOW = 1_700_000_000_000;

function replica(brokerId: number, writtenOffset: number, lastReportMs: number): ReplicaState {
  return { brokerId, address: `127.0.0.1:${8080 + brokerId}`, connectedAtMs: NOW - 60_000, lastReportMs, writtenOffset, syncedOffset: writtenOffset - 10, lastCaughtUpMs: NOW };
}

function sources(state: RoleState, more: Partial<ReplicationSources> = {}): ReplicationSources {
  const replicas = [replica(2, 4_000, NOW - 250), replica(1, 10_000, NOW - 1_000)];
  return {
    role: { state },
    epochs: { lastEpoch: 3 },
    store: { maxPhysicalOffset: 10_000 },
    replicas: {
      list: () => replicas,
      lags: () => [
        { replica: '2', bytes: 6_000, seconds: 1.5 },
        { replica: '1', bytes: 0, seconds: 0 },
      ],
      inSyncReplicas: () => [1],
    },
    follower: undefined,
    replicationMode: 'SYNC',
    clock: { now: () => NOW },
    ...more,
  };
}

const handle = (view: ReplicationSources | undefined) =>
  replicationStatusHandlers(view === undefined ? undefined : () => replicationStatusView(view)).ReplicationStatus({});

describe('ReplicationStatus', () => {
  it('on a master: epoch, log end, mode and every connected replica by id with its lag and in-sync state', async () => {
    expect(await handle(sources({ role: 'MASTER', routeBrokerId: 0 }))).toEqual({
      role: 'MASTER',
      broker_id: 0,
      epoch: 3,
      max_offset: 10_000,
      replication_mode: 'SYNC',
      replicas: [
        { broker_id: 1, address: '127.0.0.1:8081', written_offset: 10_000, synced_offset: 9_990, lag_bytes: 0, lag_seconds: 0, in_sync: true, last_report_age_ms: 1_000 },
        { broker_id: 2, address: '127.0.0.1:8082', written_offset: 4_000, synced_offset: 3_990, lag_bytes: 6_000, lag_seconds: 1.5, in_sync: false, last_report_age_ms: 250 },
      ],
    });
  });

  it('on a master without replicas: an empty list', async () => {
    const none = sources({ role: 'MASTER', routeBrokerId: 0 });
    const response = await handle({ ...none, replicas: { list: () => [], lags: () => [], inSyncReplicas: () => [] } });
    expect(response).toMatchObject({ role: 'MASTER', replicas: [] });
    expect(response.master).toBeUndefined();
  });

  it('on a slave: the master it follows, whether connected, and its lag behind the master’s last known end', async () => {
    const follower = { isConnected: true, masterMaxOffset: 12_000, lagBytes: 2_000 };
    const response = await handle(sources({ role: 'SLAVE', masterAddress: '127.0.0.1:8080', routeBrokerId: 1 }, { follower }));
    expect(response).toEqual({
      role: 'SLAVE',
      broker_id: 1,
      epoch: 3,
      max_offset: 10_000,
      replication_mode: 'SYNC',
      replicas: [],
      master: { address: '127.0.0.1:8080', connected: true, master_max_offset: 12_000, lag_bytes: 2_000 },
    });
  });

  it('on a slave whose follower has not started yet: not connected, nothing known of the master', async () => {
    const response = await handle(sources({ role: 'SLAVE', masterAddress: 'm:1', routeBrokerId: 1 }));
    expect(response.master).toEqual({ address: 'm:1', connected: false, master_max_offset: 0, lag_bytes: 0 });
  });

  it('on a standby: role, epoch and log end only', async () => {
    expect(await handle(sources({ role: 'STANDBY', routeBrokerId: 2 }))).toEqual({
      role: 'STANDBY',
      broker_id: 2,
      epoch: 3,
      max_offset: 10_000,
      replication_mode: 'SYNC',
      replicas: [],
    });
  });

  it('answers NOT_IMPLEMENTED when the broker was wired without replication state', async () => {
    await expect(handle(undefined)).rejects.toMatchObject({ code: 'NOT_IMPLEMENTED' });
    await expect(handle(undefined)).rejects.toBeInstanceOf(ApogeeError);
  });
});
