import {
  type BrokerGroup,
  type BrokerReplica,
  MASTER_ID,
  masterOf,
  readableReplicas,
  roleOf,
  slavesOf,
  validateBrokerId,
  withoutReplica,
  withReplica,
} from './brokers';

const replica = (brokerId: number, address: string, lastHeartbeatMs = 0): BrokerReplica => ({
  brokerId,
  address,
  role: roleOf(brokerId),
  lastHeartbeatMs,
});

const group = (...replicas: BrokerReplica[]): BrokerGroup => ({
  clusterName: 'c',
  brokerName: 'b',
  replicas: new Map(replicas.map((r) => [r.brokerId, r])),
});

describe('broker groups', () => {
  it('derives the role from the id', () => {
    expect(MASTER_ID).toBe(0);
    expect(roleOf(0)).toBe('MASTER');
    expect(roleOf(1)).toBe('SLAVE');
    expect(roleOf(7)).toBe('SLAVE');
  });

  it('validates broker ids', () => {
    for (const id of [0, 1, 2 ** 31 - 1]) expect(() => validateBrokerId(id)).not.toThrow();
    for (const id of [-1, 1.5, 2 ** 31, NaN]) {
      expect(() => validateBrokerId(id)).toThrow(expect.objectContaining({ code: 'INVALID_BROKER_ID' }));
    }
  });

  it('picks the master and lists readable replicas master first', () => {
    const g = group(replica(2, 'h2:1'), replica(0, 'h0:1'), replica(1, 'h1:1'));
    expect(masterOf(g)?.address).toBe('h0:1');
    expect(readableReplicas(g).map((r) => r.brokerId)).toEqual([0, 1, 2]);
    expect(slavesOf(g).map((r) => r.brokerId)).toEqual([1, 2]);
    expect(masterOf(group(replica(1, 'h1:1')))).toBeUndefined();
  });

  it('adds and replaces replicas without touching the input', () => {
    const g = group(replica(0, 'h0:1'));
    const added = withReplica(g, replica(1, 'h1:1'));
    expect([...added.replicas.keys()]).toEqual([0, 1]);
    expect([...g.replicas.keys()]).toEqual([0]);
    const moved = withReplica(added, replica(1, 'h9:1'));
    expect(moved.replicas.get(1)?.address).toBe('h9:1');
  });

  it('drops another id at the same address (a promoted slave re-registers as master)', () => {
    const g = group(replica(0, 'old:1'), replica(1, 'new:1'));
    const promoted = withReplica(g, replica(0, 'new:1'));
    expect([...promoted.replicas.values()]).toEqual([replica(0, 'new:1')]);
  });

  it('removes replicas, returning the same group when absent', () => {
    const g = group(replica(0, 'h0:1'), replica(1, 'h1:1'));
    expect([...withoutReplica(g, 0).replicas.keys()]).toEqual([1]);
    expect(withoutReplica(g, 5)).toBe(g);
  });
});
