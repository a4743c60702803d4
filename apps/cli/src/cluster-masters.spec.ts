import type { ClusterInfo } from '@apogee/routing';
import { CliError, UsageError } from './cli-error';
import { mastersOf } from './cluster-masters';

const replica = (brokerId: number, address: string) => ({
  brokerId,
  address,
  role: brokerId === 0 ? ('MASTER' as const) : ('SLAVE' as const),
  lastHeartbeatMs: 1,
});

const info: ClusterInfo = {
  clusters: [
    { clusterName: 'east', brokerNames: ['a', 'b'] },
    { clusterName: 'west', brokerNames: ['c'] },
  ],
  brokers: [
    { clusterName: 'east', brokerName: 'a', replicas: [replica(0, 'h1:1'), replica(1, 'h2:1')] },
    { clusterName: 'east', brokerName: 'b', replicas: [replica(1, 'h3:1')] },
    { clusterName: 'west', brokerName: 'c', replicas: [replica(0, 'h4:1')] },
  ],
};

describe('mastersOf', () => {
  it("lists the cluster's masters and the groups without one", () => {
    expect(mastersOf(info, 'ns:1', 'east')).toEqual({
      clusterName: 'east',
      masters: [{ brokerName: 'a', address: 'h1:1' }],
      withoutMaster: ['b'],
    });
  });

  it('takes the only cluster when none is named', () => {
    const west = { clusters: [info.clusters[1]!], brokers: [info.brokers[2]!] };
    expect(mastersOf(west, 'ns:1').clusterName).toBe('west');
  });

  it('asks for --cluster when there are several (exit 2)', () => {
    expect(() => mastersOf(info, 'ns:1')).toThrow(UsageError);
    expect(() => mastersOf(info, 'ns:1')).toThrow('several clusters (east, west); choose one with --cluster');
  });

  it('fails (exit 1) for an unknown cluster or an empty nameserver', () => {
    expect(() => mastersOf(info, 'ns:1', 'north')).toThrow('cluster "north" is unknown to the nameserver at ns:1; known: east, west');
    const empty = (): unknown => mastersOf({ clusters: [], brokers: [] }, 'ns:1');
    expect(empty).toThrow(CliError);
    expect(empty).toThrow('no broker is registered with the nameserver at ns:1');
  });
});
