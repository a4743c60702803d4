import { createTopicConfig, type ClusterInfo, type TopicRoute } from '@apogee/routing';
import {
  clusterInfoFromWire,
  clusterInfoToWire,
  heartbeatTimingFromWire,
  heartbeatTimingToWire,
  registrationFromWire,
  registrationToWire,
  replicaRefFromWire,
  replicaRefToWire,
  routeFromWire,
  routeToWire,
  type NameServerRegistration,
} from './nameserver-codec';
import { loadNameServerService } from './nameserver-wire';

// Every round trip goes through the real proto encoding, so a wire field name that does not
// match nameserver.proto loses its value and fails the test.
const service = loadNameServerService().service;
const viaRequest = <T>(method: string, wire: T): T =>
  service[method].requestDeserialize(service[method].requestSerialize(wire)) as T;
const viaResponse = <T>(method: string, wire: T): T =>
  service[method].responseDeserialize(service[method].responseSerialize(wire)) as T;

const registration: NameServerRegistration = {
  clusterName: 'DefaultCluster',
  brokerName: 'broker-a',
  brokerId: 1,
  address: '10.0.0.7:8082',
  role: 'SLAVE',
  topics: [
    createTopicConfig({ name: 'orders', readQueueCount: 4, writeQueueCount: 2, messageType: 'FIFO' }),
    createTopicConfig({ name: 'closed', permission: 0, messageType: 'DELAY' }),
  ],
  brokerPermission: 4,
};

describe('nameserver codec', () => {
  it('round-trips a registration, keeping a zero permission and the optional broker permission', () => {
    expect(registrationFromWire(viaRequest('RegisterBroker', registrationToWire(registration)))).toEqual(registration);
    const { brokerPermission: _, role: __, ...plain } = registration;
    expect(registrationFromWire(viaRequest('RegisterBroker', registrationToWire({ ...plain, brokerId: 0 })))).toEqual({
      ...plain,
      brokerId: 0,
      role: undefined,
      brokerPermission: undefined,
    });
  });

  it('decodes absent fields as proto3 defaults for the model to refuse', () => {
    expect(registrationFromWire({ topics: [{ name: 't' }] })).toEqual({
      clusterName: '',
      brokerName: '',
      brokerId: 0,
      address: '',
      role: undefined,
      topics: [{ name: 't', readQueueCount: 0, writeQueueCount: 0, permission: 0, messageType: 'MESSAGE_TYPE_UNSPECIFIED' }],
      brokerPermission: undefined,
    });
  });

  it('round-trips replica refs; an empty address means any', () => {
    const ref = { brokerName: 'broker-a', brokerId: 0, address: '127.0.0.1:8081' };
    expect(replicaRefFromWire(viaRequest('Heartbeat', replicaRefToWire(ref)))).toEqual(ref);
    expect(replicaRefFromWire(viaRequest('UnregisterBroker', replicaRefToWire({ brokerName: 'b', brokerId: 2 })))).toEqual({
      brokerName: 'b',
      brokerId: 2,
    });
  });

  it('round-trips the heartbeat timing through int64 strings', () => {
    const wire = viaResponse('RegisterBroker', heartbeatTimingToWire({ heartbeatIntervalMs: 30_000, evictionWindowMs: 120_000 }));
    expect(wire).toEqual({ heartbeat_interval_ms: '30000', eviction_window_ms: '120000' });
    expect(heartbeatTimingFromWire(wire)).toEqual({ heartbeatIntervalMs: 30_000, evictionWindowMs: 120_000 });
  });

  it('round-trips a route', () => {
    const route: TopicRoute = {
      topic: 'orders',
      queues: [
        { topic: 'orders', brokerName: 'broker-a', queueId: 0, permission: 6, acceptMessageTypes: ['FIFO'] },
        { topic: 'orders', brokerName: 'broker-b', queueId: 0, permission: 0, acceptMessageTypes: ['FIFO'] },
      ],
      brokers: [
        { brokerName: 'broker-a', brokerId: 0, address: '127.0.0.1:8081' },
        { brokerName: 'broker-b', brokerId: 1, address: '[::1]:8083' },
      ],
    };
    expect(routeFromWire(viaResponse('QueryRoute', routeToWire(route)))).toEqual(route);
  });

  it('round-trips cluster info, nesting groups under clusters on the wire', () => {
    const replica = (brokerId: number, address: string) => ({
      brokerId,
      address,
      role: brokerId === 0 ? ('MASTER' as const) : ('SLAVE' as const),
      lastHeartbeatMs: 1_790_000_000_123 + brokerId,
    });
    const info: ClusterInfo = {
      clusters: [
        { clusterName: 'east', brokerNames: ['broker-b'] },
        { clusterName: 'west', brokerNames: ['broker-a', 'broker-c'] },
      ],
      brokers: [
        { clusterName: 'west', brokerName: 'broker-a', replicas: [replica(0, 'a:1'), replica(1, 'a:2')] },
        { clusterName: 'east', brokerName: 'broker-b', replicas: [replica(0, 'b:1')] },
        { clusterName: 'west', brokerName: 'broker-c', replicas: [replica(3, 'c:1')] },
      ],
    };
    const wire = viaResponse('GetClusterInfo', clusterInfoToWire(info));
    expect(wire.clusters?.[1].broker_groups?.[0].replicas?.[1]).toEqual({
      broker_id: 1,
      address: 'a:2',
      role: 'SLAVE',
      last_heartbeat_ms: '1790000000124',
    });
    expect(clusterInfoFromWire(wire)).toEqual(info);
  });

  it('decodes empty answers', () => {
    expect(clusterInfoFromWire(viaResponse('GetClusterInfo', {}))).toEqual({ clusters: [], brokers: [] });
    expect(routeFromWire({})).toEqual({ topic: '', queues: [], brokers: [] });
  });
});
