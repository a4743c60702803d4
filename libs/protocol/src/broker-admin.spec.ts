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
});
