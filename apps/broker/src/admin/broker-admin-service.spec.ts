import { status, type ServiceError } from '@grpc/grpc-js';
import { createBrokerAdminClient, ERROR_CODE_METADATA_KEY, type BrokerAdminClient } from '@apogee/protocol';
import { createLogger, loadConfig, startGrpcServer, type GrpcServer } from '@apogee/runtime';
import { APP, brokerConfigSchema } from '../config';
import type { BrokerMetadata } from '../metadata/open-metadata';
import { createBrokerAdminService, type OffsetAdminSources } from './broker-admin-service';

// TopicStats, GetConfig and SetConfig over real gRPC (the proto's encoding), with the admin
// service given config access and one run-time field, as start-broker wires it.
let server: GrpcServer;
let admin: BrokerAdminClient;
let autoCreateGroups = false;

const NOW = 1_700_000_000_000;
const topics = {
  require: (name: string) => ({ name, readQueueCount: 2, writeQueueCount: 2, permission: 6, messageType: 'NORMAL' }),
} as unknown as BrokerMetadata['topics'];
const store = {
  queueIds: () => [0],
  queueRange: (_topic: string, queueId: number) => (queueId === 0 ? { min: 0, max: 3 } : { min: 0, max: 0 }),
  readQueue: () => [{ storeTimestampMs: NOW }],
} as unknown as OffsetAdminSources['store'];

beforeAll(async () => {
  const config = loadConfig(brokerConfigSchema, { app: APP, overrides: { nameservers: [] } });
  const sources = {
    store,
    consumption: {} as OffsetAdminSources['consumption'],
    clock: { now: () => NOW },
    config: { config, runtime: { autoCreateGroups: (value: boolean) => void (autoCreateGroups = value) } },
  };
  const service = createBrokerAdminService({ topics, groups: {} as BrokerMetadata['groups'] }, sources, createLogger({ app: APP, level: 'silent' }));
  server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [service], shutdownGraceMs: 100 });
  admin = createBrokerAdminClient(server.address);
});

afterAll(async () => {
  admin?.close();
  await server?.stop();
});

describe('BrokerAdmin TopicStats, GetConfig, SetConfig over gRPC', () => {
  it('answers TopicStats with int64 offsets and times', async () => {
    expect(await admin.call('TopicStats', { topic: 'orders' })).toEqual({
      topic: 'orders',
      queues: [
        { queue_id: 0, min_offset: '0', max_offset: '3', last_store_timestamp_ms: String(NOW) },
        { queue_id: 1, min_offset: '0', max_offset: '0', last_store_timestamp_ms: '0' },
      ],
    });
  });

  it('answers GetConfig, applies SetConfig of a run-time field, refuses one that needs a restart', async () => {
    const { entries = [] } = await admin.call('GetConfig', {});
    expect(entries.find((e) => e.key === 'flushMode')).toMatchObject({ value_json: '"ASYNC"', runtime: false });
    expect(await admin.call('SetConfig', { key: 'autoCreateGroups', value: 'true' })).toMatchObject({
      old_entry: { value_json: 'false' },
      entry: { key: 'autoCreateGroups', value_json: 'true', runtime: true },
    });
    expect(autoCreateGroups).toBe(true);
    const err = (await admin.call('SetConfig', { key: 'flushMode', value: 'SYNC' }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.metadata.get(ERROR_CODE_METADATA_KEY)[0]).toBe('INVALID_CONFIG');
    expect(err.details).toContain('needs a restart');
  });
});
