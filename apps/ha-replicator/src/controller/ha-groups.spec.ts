import { HaGroups, type BrokerReport } from './ha-groups';

const timing = { masterTimeoutMs: 3_000, leaseMs: 2_000 };

function report(replicaId: number, fields: Partial<BrokerReport> = {}): BrokerReport {
  return {
    clusterName: 'c',
    brokerName: 'g',
    replicaId,
    address: `h:${replicaId}`,
    role: 'STANDBY',
    epoch: 0,
    epochStartOffset: 0,
    maxOffset: 0,
    replicas: [],
    ...fields,
  };
}

describe('HaGroups', () => {
  it('makes replica 0 of a new group master of epoch 1 with a lease, and the others its slaves', () => {
    const groups = new HaGroups(timing, 0);
    const slave = groups.onHeartbeat(report(1), 0);
    expect(slave.assignment).toMatchObject({ role: 'STANDBY', routeBrokerId: 1 });
    const master = groups.onHeartbeat(report(0), 10);
    expect(master).toMatchObject({ changed: true, assignment: { role: 'MASTER', epoch: 1, routeBrokerId: 0, leaseMs: 2_000 } });
    expect(groups.onHeartbeat(report(1), 20).assignment).toMatchObject({ role: 'SLAVE', epoch: 1, masterAddress: 'h:0', routeBrokerId: 1 });
  });

  it('replaces a master silent past the timeout with the live replica holding the most log, raising the epoch', () => {
    const groups = new HaGroups(timing, 0);
    groups.onHeartbeat(report(0), 0);
    groups.onHeartbeat(report(0, { role: 'MASTER', epoch: 1, epochStartOffset: 0, maxOffset: 900 }), 500);
    groups.onHeartbeat(report(1, { role: 'SLAVE', epoch: 1, maxOffset: 800 }), 3_000);
    groups.onHeartbeat(report(2, { role: 'SLAVE', epoch: 1, maxOffset: 900 }), 3_000);
    expect(groups.tick(3_400)).toEqual([]); // 2.9 s of silence: not yet
    const [failover] = groups.tick(3_600);
    expect(failover).toMatchObject({ brokerName: 'g', epoch: 2, from: 0, to: 2, maxOffset: 900 });
    expect(groups.onHeartbeat(report(2, { role: 'SLAVE', epoch: 1, maxOffset: 900 }), 3_700).assignment).toMatchObject({
      role: 'MASTER',
      epoch: 2,
    });
    groups.onHeartbeat(report(2, { role: 'MASTER', epoch: 2, epochStartOffset: 900, maxOffset: 900 }), 3_800);
    expect(groups.onHeartbeat(report(1, { role: 'SLAVE', epoch: 1, maxOffset: 800 }), 3_900).assignment).toMatchObject({
      role: 'SLAVE',
      epoch: 2,
      epochStartOffset: 900,
      masterAddress: 'h:2',
    });
    // the old master comes back: it is a slave now, under a free route id
    expect(groups.onHeartbeat(report(0, { role: 'MASTER', epoch: 1, maxOffset: 950 }), 9_000).assignment).toMatchObject({
      role: 'SLAVE',
      epoch: 2,
      masterAddress: 'h:2',
      routeBrokerId: 2,
    });
  });

  it('does not fail over to a replica it has not heard from within the timeout', () => {
    const groups = new HaGroups(timing, 0);
    groups.onHeartbeat(report(0), 0);
    groups.onHeartbeat(report(1, { role: 'SLAVE', epoch: 1 }), 0);
    expect(groups.tick(5_000)).toEqual([]);
  });

  it('replaces no master before one timeout after it started acting, and adopts the epoch brokers report', () => {
    const groups = new HaGroups(timing, 10_000, new Map([['g', { clusterName: 'c', epoch: 3, masterReplicaId: 1 }]]));
    groups.onHeartbeat(report(2, { role: 'SLAVE', epoch: 3, maxOffset: 10 }), 10_100);
    expect(groups.tick(12_000)).toEqual([]);
    expect(groups.tick(13_100)).toMatchObject([{ epoch: 4, from: 1, to: 2 }]);
    // a broker that knows a newer epoch than the persisted state wins
    const fresh = new HaGroups(timing, 0, new Map([['g', { clusterName: 'c', epoch: 3, masterReplicaId: 1 }]]));
    const { assignment } = fresh.onHeartbeat(report(2, { role: 'MASTER', epoch: 5 }), 0);
    expect(assignment).toMatchObject({ role: 'MASTER', epoch: 5 });
  });

  it('reports each replica with its lag behind the master and whether the master counts it in sync', () => {
    const groups = new HaGroups(timing, 0);
    groups.onHeartbeat(report(0), 0);
    groups.onHeartbeat(
      report(0, { role: 'MASTER', epoch: 1, maxOffset: 1_000, replicas: [{ address: 'h:1', inSync: true }] }),
      0,
    );
    groups.onHeartbeat(report(1, { role: 'SLAVE', epoch: 1, maxOffset: 900 }), 0);
    const [status] = groups.status(500);
    expect(status).toMatchObject({ epoch: 1, masterReplicaId: 0, masterAddress: 'h:0' });
    expect(status.replicas).toEqual([
      expect.objectContaining({ replicaId: 0, lagBytes: 0, inSync: true, silentMs: 500 }),
      expect.objectContaining({ replicaId: 1, lagBytes: 100, inSync: true }),
    ]);
  });
});
