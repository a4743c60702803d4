import { Permission, type ClusterInfo, type TopicRoute } from '@apogee/routing';
import { renderOutcomes } from '../broker-outcomes';
import { clusterStatusJson, renderClusterStatus, replicaKey, type ReplicationStates } from './cluster-status.command';
import { groupProgressJson, renderGroupProgress } from './group-progress.command';
import { renderResetOffset } from './group-reset-offset.command';
import { renderTopicList } from './topic-list.command';
import { renderTopicRoute, topicRouteJson } from './topic-route.command';

const NOW = 1_700_000_000_000;

const info: ClusterInfo = {
  clusters: [{ clusterName: 'DefaultCluster', brokerNames: ['broker-a', 'broker-b'] }],
  brokers: [
    {
      clusterName: 'DefaultCluster',
      brokerName: 'broker-a',
      replicas: [
        { brokerId: 0, address: '127.0.0.1:8081', role: 'MASTER', lastHeartbeatMs: NOW - 3_000 },
        { brokerId: 1, address: '127.0.0.1:8082', role: 'SLAVE', lastHeartbeatMs: NOW - 65_000 },
      ],
    },
    {
      clusterName: 'DefaultCluster',
      brokerName: 'broker-b',
      replicas: [{ brokerId: 1, address: '10.0.0.2:8082', role: 'SLAVE', lastHeartbeatMs: NOW }],
    },
  ],
};

describe('cluster status output', () => {
  it('is one row per replica', () => {
    expect(renderClusterStatus(info, 'ns:9876', NOW)).toBe(
      [
        'CLUSTER         BROKER    ID  ROLE    ADDRESS         LAST HEARTBEAT  EPOCH  LOG END  LAG',
        'DefaultCluster  broker-a  0   MASTER  127.0.0.1:8081  3s ago          -      -        -',
        'DefaultCluster  broker-a  1   SLAVE   127.0.0.1:8082  1m 5s ago       -      -        -',
        'DefaultCluster  broker-b  1   SLAVE   10.0.0.2:8082   <1s ago         -      -        -',
        '',
      ].join('\n'),
    );
  });

  // broker-a: master with its slave 1 connected and 1.2 MiB behind for 0.4 s; broker-b's slave
  // answers on its own (its master is not listed): behind by what it knows, seconds unknown.
  const states: ReplicationStates = new Map([
    [
      replicaKey('broker-a', 0),
      {
        status: {
          role: 'MASTER',
          epoch: '2',
          max_offset: '5000000',
          replication_mode: 'SYNC',
          replicas: [{ broker_id: 1, address: '127.0.0.1:8082', written_offset: '3741696', lag_bytes: '1258304', lag_seconds: 0.4, in_sync: true }],
        },
      },
    ],
    [
      replicaKey('broker-a', 1),
      { status: { role: 'SLAVE', broker_id: 1, epoch: '2', max_offset: '3741696', master: { address: '127.0.0.1:8081', connected: true, lag_bytes: '1000' } } },
    ],
    [replicaKey('broker-b', 1), { status: { role: 'SLAVE', broker_id: 1, max_offset: '77', master: { address: '10.0.0.2:8081' } } }],
  ]);

  it('adds each replica’s epoch, log end and lag', () => {
    expect(renderClusterStatus(info, 'ns:9876', NOW, states)).toBe(
      [
        'CLUSTER         BROKER    ID  ROLE    ADDRESS         LAST HEARTBEAT  EPOCH  LOG END  LAG',
        'DefaultCluster  broker-a  0   MASTER  127.0.0.1:8081  3s ago          2      5000000  in-sync 1/1',
        'DefaultCluster  broker-a  1   SLAVE   127.0.0.1:8082  1m 5s ago       2      3741696  1.2 MiB / 0.4 s',
        'DefaultCluster  broker-b  1   SLAVE   10.0.0.2:8082   <1s ago         0      77       0 B (not connected)',
        '',
      ].join('\n'),
    );
  });

  it('shows - for a replica that did not answer, and 0 B for a caught-up slave', () => {
    const caughtUp: ReplicationStates = new Map([
      [replicaKey('broker-a', 0), { error: 'cannot reach the broker broker-a at 127.0.0.1:8081' }],
      [replicaKey('broker-a', 1), { status: { role: 'SLAVE', broker_id: 1, max_offset: '10', master: { address: 'x', connected: true } } }],
    ]);
    const lines = renderClusterStatus(info, 'ns:9876', NOW, caughtUp).split('\n');
    expect(lines[1]).toMatch(/MASTER .* -\s+-\s+-$/);
    expect(lines[2]).toMatch(/SLAVE .* 0\s+10\s+0 B$/);
  });

  it('carries the replication fields in JSON', () => {
    const json = clusterStatusJson(info, 'ns:9876', NOW, states) as { clusters: { brokerGroups: { replicas: unknown[] }[] }[] };
    const [master, slave] = json.clusters[0]?.brokerGroups[0]?.replicas ?? [];
    expect(master).toMatchObject({
      brokerId: 0,
      replication: {
        role: 'MASTER',
        epoch: 2,
        logEnd: 5_000_000,
        replicationMode: 'SYNC',
        connectedReplicas: 1,
        inSyncReplicas: 1,
        replicas: [{ brokerId: 1, address: '127.0.0.1:8082', writtenOffset: 3_741_696, lagBytes: 1_258_304, lagSeconds: 0.4, inSync: true }],
      },
    });
    expect(slave).toMatchObject({
      brokerId: 1,
      replication: {
        role: 'SLAVE',
        epoch: 2,
        logEnd: 3_741_696,
        master: { address: '127.0.0.1:8081', connected: true, masterMaxOffset: 0, lagBytes: 1_000 },
        lagBytes: 1_258_304,
        lagSeconds: 0.4,
      },
    });
    const down = clusterStatusJson(info, 'ns:9876', NOW, new Map([[replicaKey('broker-a', 0), { error: 'timed out' }]])) as typeof json;
    expect(down.clusters[0]?.brokerGroups[0]?.replicas[0]).toMatchObject({ replication: null, replicationError: 'timed out' });
  });

  it('says so when no broker is registered', () => {
    expect(renderClusterStatus({ clusters: [], brokers: [] }, 'ns:9876', NOW)).toBe(
      'No broker is registered with the nameserver at ns:9876.\n',
    );
  });

  it('nests clusters, groups and replicas in JSON', () => {
    const json = clusterStatusJson(info, 'ns:9876', NOW) as { clusters: { brokerGroups: { replicas: unknown[] }[] }[] };
    expect(json.clusters[0]?.brokerGroups[0]?.replicas[1]).toEqual({
      brokerId: 1,
      role: 'SLAVE',
      address: '127.0.0.1:8082',
      lastHeartbeatMs: NOW - 65_000,
      lastHeartbeatAgeMs: 65_000,
      replication: null,
    });
  });
});

describe('topic route output', () => {
  const queue = (brokerName: string, queueId: number, permission: number) => ({
    topic: 'orders',
    brokerName,
    queueId,
    permission,
    acceptMessageTypes: ['FIFO' as const],
  });
  const route: TopicRoute = {
    topic: 'orders',
    queues: [
      ...[0, 1, 2, 3].map((id) => queue('broker-a', id, Permission.READ_WRITE)),
      ...[4, 5].map((id) => queue('broker-a', id, Permission.READ)),
      ...[0, 1].map((id) => queue('broker-b', id, Permission.READ)),
    ],
    brokers: [
      { brokerName: 'broker-a', brokerId: 0, address: '127.0.0.1:8081' },
      { brokerName: 'broker-b', brokerId: 1, address: '10.0.0.2:8082' },
    ],
  };

  it('groups runs of queues that share permission and types', () => {
    expect(renderTopicRoute(route)).toBe(
      [
        'Topic orders: 8 queues on 2 brokers',
        'BROKER    ID  ADDRESS         QUEUES  PERMISSION  TYPES',
        'broker-a  0   127.0.0.1:8081  0-3     READ_WRITE  FIFO',
        'broker-a  0   127.0.0.1:8081  4-5     READ        FIFO',
        'broker-b  1   10.0.0.2:8082   0-1     READ        FIFO',
        '',
      ].join('\n'),
    );
  });

  it('lists every queue with its permission name in JSON', () => {
    const json = topicRouteJson(route) as { queues: unknown[] };
    expect(json.queues[4]).toEqual({ brokerName: 'broker-a', queueId: 4, permission: 'READ', acceptMessageTypes: ['FIFO'] });
  });
});

describe('topic list output', () => {
  it('marks system, retry and dead-letter topics', () => {
    expect(renderTopicList(['%DLQ%g', '%RETRY%g', 'TBW102', 'orders'], 'ns:1')).toBe(
      'TOPIC     KIND\n%DLQ%g    dead-letter\n%RETRY%g  retry\nTBW102    system\norders    topic\n',
    );
    expect(renderTopicList([], 'ns:1')).toMatch(/^No topics/);
  });
});

describe('per-broker outcomes', () => {
  it('prints a row per broker, then each failure with its hint', () => {
    const text = renderOutcomes([
      { brokerName: 'broker-a', address: '127.0.0.1:8081', result: 'created' },
      { brokerName: 'broker-b', address: '', result: 'failed', error: { message: 'no live master', hint: 'retry later' } },
    ]);
    expect(text).toBe(
      'BROKER    ADDRESS         RESULT\n' +
        'broker-a  127.0.0.1:8081  created\n' +
        'broker-b  -               FAILED\n' +
        '\nbroker-b: no live master\n  hint: retry later\n',
    );
  });
});

describe('broadcast group output', () => {
  const broker = { brokerName: 'broker-a', address: '127.0.0.1:8081' };
  const queue = { topic: 'news', min_offset: '0', max_offset: '4', inflight: 0, lag_seconds: 0, consumed: true };

  it('shows a CLIENT column in group progress, and the client id in JSON', () => {
    const value = {
      group: 'fanout',
      queues: [
        { ...queue, queue_id: 0, committed_offset: '4', next_offset: '4', lag: '0', client_id: 'a@1@0@0' },
        { ...queue, queue_id: 0, committed_offset: '1', next_offset: '4', lag: '3', inflight: 3, client_id: 'b@1@0@0' },
      ],
    };
    const outcomes = [{ ...broker, result: 'read' as const, value }];
    const text = renderGroupProgress({ nameserver: 'ns:9876', group: 'fanout' }, outcomes);
    expect(text).toMatch(/^BROKER\s+CLIENT\s+TOPIC\s+QUEUE\s+COMMITTED/m);
    expect(text).toMatch(/^broker-a\s+b@1@0@0\s+news\s+0\s+1\s+4\s+3\s+3\s/m);
    expect(text).toContain('Broadcast group: each client has its own position');
    const json = groupProgressJson({ nameserver: 'ns:9876', group: 'fanout' }, outcomes) as { brokers: Array<{ queues: object[] }> };
    expect(json.brokers[0].queues.map((q) => (q as { clientId?: string }).clientId)).toEqual(['a@1@0@0', 'b@1@0@0']);
  });

  it('keeps the columns of a normal group unchanged', () => {
    const value = { group: 'billing', queues: [{ ...queue, queue_id: 0, committed_offset: '4', next_offset: '4', lag: '0' }] };
    const text = renderGroupProgress({ nameserver: 'ns:9876', group: 'billing' }, [{ ...broker, result: 'read', value }]);
    expect(text).toMatch(/^BROKER\s+TOPIC\s+QUEUE\s+COMMITTED/m);
  });

  it('names each client and the new clients in reset-offset', () => {
    const value = {
      group: 'fanout',
      topic: 'news',
      broadcast: true,
      queues: [
        { queue_id: 0, old_committed_offset: '4', new_offset: '0', dropped_inflight: 1, client_id: 'a@1@0@0' },
        { queue_id: 0, new_offset: '0', dropped_inflight: 0 },
      ],
    };
    const input = { nameserver: 'ns:9876', group: 'fanout', topic: 'news', to: { kind: 'earliest' as const } };
    const text = renderResetOffset(input, [{ ...broker, result: 'reset', value }]);
    expect(text).toMatch(/^BROKER\s+CLIENT\s+QUEUE\s+COMMITTED OFFSET\s+IN-FLIGHT DROPPED$/m);
    expect(text).toMatch(/^broker-a\s+a@1@0@0\s+0\s+4 → 0\s+1$/m);
    expect(text).toMatch(/^broker-a\s+\(new clients\)\s+0\s+- → 0\s+0$/m);
    expect(text).toContain('clients that appear later start at the new offset');
  });
});
