import { Permission, type ClusterInfo, type TopicRoute } from '@apogee/routing';
import { renderOutcomes } from '../broker-outcomes';
import { clusterStatusJson, renderClusterStatus } from './cluster-status.command';
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
        'CLUSTER         BROKER    ID  ROLE    ADDRESS         LAST HEARTBEAT',
        'DefaultCluster  broker-a  0   MASTER  127.0.0.1:8081  3s ago',
        'DefaultCluster  broker-a  1   SLAVE   127.0.0.1:8082  1m 5s ago',
        'DefaultCluster  broker-b  1   SLAVE   10.0.0.2:8082   <1s ago',
        '',
      ].join('\n'),
    );
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
