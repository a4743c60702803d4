import { BROKER_ADMIN_SERVICE, loadBrokerAdminService, type BrokerAdminMethod } from './broker-admin';

const METHODS: Record<BrokerAdminMethod, true> = {
  CreateTopic: true,
  UpdateTopic: true,
  DeleteTopic: true,
  GetTopic: true,
  ListTopics: true,
  CreateGroup: true,
  UpdateGroup: true,
  DeleteGroup: true,
  GetGroup: true,
  ListGroups: true,
  ResetOffset: true,
  GroupProgress: true,
  ReplicationStatus: true,
  TopicStats: true,
  GetConfig: true,
  SetConfig: true,
};

describe('BrokerAdmin proto', () => {
  it('has exactly the unary methods of the TypeScript method table', () => {
    const service = loadBrokerAdminService();
    expect(Object.keys(service.service).sort()).toEqual(Object.keys(METHODS).sort());
    for (const method of Object.values(service.service)) {
      expect(method.path).toMatch(new RegExp(`^/${BROKER_ADMIN_SERVICE.replace(/\./g, '\\.')}/`));
      expect([method.requestStream, method.responseStream]).toEqual([false, false]);
    }
    expect(loadBrokerAdminService()).toBe(service); // loaded once
  });

  it('round-trips a group with a oneof retry policy and unset optional fields', () => {
    const { CreateGroup } = loadBrokerAdminService().service;
    const request = { name: 'g', retry_policy: { customized: { delays_ms: [1_000, 5_000] } } };
    expect(CreateGroup.requestDeserialize(CreateGroup.requestSerialize(request))).toEqual(request);
    const bare = CreateGroup.requestDeserialize(CreateGroup.requestSerialize({ name: 'g', max_delivery_attempts: 0 }));
    expect(bare).toEqual({ name: 'g', max_delivery_attempts: 0 }); // optional: an explicit 0 stays visible
  });

  it('round-trips a ResetOffset by time and by edge, int64 offsets as strings', () => {
    const { ResetOffset } = loadBrokerAdminService().service;
    const byTime = { group: 'g', topic: 't', timestamp_ms: 1_700_000_000_123 };
    expect(ResetOffset.requestDeserialize(ResetOffset.requestSerialize(byTime))).toEqual({ ...byTime, timestamp_ms: '1700000000123' });
    const byEdge = { group: 'g', topic: 't', edge: 'EARLIEST' };
    expect(ResetOffset.requestDeserialize(ResetOffset.requestSerialize(byEdge))).toEqual(byEdge);
    const answer = { group: 'g', topic: 't', queues: [{ queue_id: 0, new_offset: 5, dropped_inflight: 0 }], future_timestamp: false };
    expect(ResetOffset.responseDeserialize(ResetOffset.responseSerialize(answer))).toEqual({
      ...answer,
      queues: [{ queue_id: 0, new_offset: '5', dropped_inflight: 0 }],
    });
  });
});
