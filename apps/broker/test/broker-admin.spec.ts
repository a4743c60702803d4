import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import {
  BROKER_ADMIN_SERVICE,
  checkHealth,
  createBrokerAdminClient,
  ERROR_CODE_METADATA_KEY,
  type BrokerAdminClient,
} from '@apogee/protocol';
import { loadConfig, type RunningService } from '@apogee/runtime';
import { httpGet, waitFor } from '@apogee/testing';
import { APP, brokerConfigSchema } from '../src/config';
import { startBroker } from '../src/start-broker';
import { silentLogger } from './metadata-fixture';

// BrokerAdmin end to end: a broker started in-process on free ports, called over real gRPC.
let dataDir: string;
let broker: RunningService | undefined;
let admin: BrokerAdminClient | undefined;

async function start(): Promise<void> {
  const overrides = { grpcHost: '127.0.0.1', grpcPort: 0, metricsHost: '127.0.0.1', metricsPort: 0, dataDir, nameservers: [] };
  broker = await startBroker(loadConfig(brokerConfigSchema, { app: APP, overrides }), { logger: silentLogger });
  admin = createBrokerAdminClient(broker.grpcAddress);
}

async function stop(): Promise<void> {
  admin?.close();
  admin = undefined;
  await broker?.stop();
  broker = undefined;
}

function client(): BrokerAdminClient {
  if (admin === undefined) throw new Error('broker not started');
  return admin;
}

/** Resolves with the gRPC error the call failed with (and fails the test if it succeeded). */
async function failure(call: Promise<unknown>): Promise<{ code: status; details: string; apogeeCode: unknown }> {
  const err = (await call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (e: unknown) => e,
  )) as ServiceError;
  return { code: err.code, details: err.details, apogeeCode: err.metadata.get(ERROR_CODE_METADATA_KEY)[0] };
}

beforeAll(async () => {
  dataDir = path.join(await mkdtemp(path.join(tmpdir(), 'apogee-broker-admin-')), 'data');
  await start();
});

afterAll(async () => {
  await stop();
  await rm(path.dirname(dataDir), { recursive: true, force: true });
});

describe('BrokerAdmin over gRPC', () => {
  it('is served, with its own health status', async () => {
    await expect(checkHealth(broker!.grpcAddress, { service: BROKER_ADMIN_SERVICE })).resolves.toBe('SERVING');
  });

  it('creates, lists, gets, updates and deletes topics', async () => {
    const orders = { name: 'orders', read_queue_count: 4, write_queue_count: 4, permission: 'READ_WRITE', message_type: 'FIFO' };
    await expect(client().call('CreateTopic', { name: 'orders', read_queue_count: 4, write_queue_count: 4, message_type: 'FIFO' }))
      .resolves.toEqual({ topic: orders });
    await expect(client().call('CreateTopic', { name: 'plain' })).resolves.toEqual({
      topic: { name: 'plain', read_queue_count: 8, write_queue_count: 8, permission: 'READ_WRITE', message_type: 'NORMAL' },
    });
    await expect(client().call('ListTopics', {})).resolves.toEqual({ topics: [orders, expect.objectContaining({ name: 'plain' })] });
    await expect(client().call('GetTopic', { name: 'orders' })).resolves.toEqual({ topic: orders });

    const grown = { ...orders, read_queue_count: 16, write_queue_count: 16 };
    const update = { name: 'orders', read_queue_count: 16, write_queue_count: 16 };
    await expect(client().call('UpdateTopic', update)).resolves.toEqual({ topic: grown });
    await expect(client().call('GetTopic', { name: 'orders' })).resolves.toEqual({ topic: grown });

    await expect(client().call('DeleteTopic', { name: 'plain' })).resolves.toMatchObject({ topic: { name: 'plain' } });
    expect((await client().call('ListTopics', {})).topics?.map((t) => t.name)).toEqual(['orders']);
    const metrics = await waitFor(async () => {
      const body = (await httpGet(broker!.metricsAddress, '/metrics')).body;
      return body.includes('apogee_broker_topics 1') && body;
    });
    expect(metrics).toContain('apogee_broker_consumer_groups');
  });

  it('creates, lists, gets, updates and deletes groups', async () => {
    await expect(client().call('CreateGroup', { name: 'billing' })).resolves.toEqual({
      group: {
        name: 'billing',
        fifo: false,
        max_delivery_attempts: 17,
        retry_policy: { exponential: { initial_ms: 5_000, max_ms: 7_200_000, multiplier: 2 } },
        broadcast: false,
      },
    });
    const payments = {
      name: 'payments',
      fifo: true,
      max_delivery_attempts: 5,
      retry_policy: { customized: { delays_ms: [1_000, 30_000] } },
    };
    await expect(client().call('CreateGroup', payments)).resolves.toEqual({ group: { ...payments, broadcast: false } });
    const faster = { name: 'billing', retry_policy: { exponential: { initial_ms: 1_000 } } };
    await expect(client().call('UpdateGroup', faster)).resolves.toMatchObject({
      group: { retry_policy: { exponential: { initial_ms: 1_000, max_ms: 7_200_000, multiplier: 2 } } },
    });
    await expect(client().call('GetGroup', { name: 'payments' })).resolves.toEqual({ group: { ...payments, broadcast: false } });
    await client().call('CreateGroup', { name: 'temp' });
    await expect(client().call('DeleteGroup', { name: 'temp' })).resolves.toMatchObject({ group: { name: 'temp' } });
    expect((await client().call('ListGroups', {})).groups?.map((g) => g.name)).toEqual(['billing', 'payments']);
  });

  it('answers bad input with the right status and a message that says what to fix', async () => {
    await expect(failure(client().call('CreateTopic', { name: 'bad topic' }))).resolves.toEqual({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('illegal character " " at index 3; allowed:'),
      apogeeCode: 'INVALID_TOPIC_NAME',
    });
    await expect(failure(client().call('CreateTopic', { name: 'q', read_queue_count: 0 }))).resolves.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('read queue count 0; allowed: an integer from 1 to 1024'),
    });
    await expect(failure(client().call('CreateTopic', { name: 'orders' }))).resolves.toMatchObject({
      code: status.ALREADY_EXISTS,
      apogeeCode: 'TOPIC_EXISTS',
      details: expect.stringContaining('change it with UpdateTopic or choose another name'),
    });
    await expect(failure(client().call('GetTopic', {}))).resolves.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('Topic name is empty'),
    });
    await expect(failure(client().call('GetTopic', { name: 'missing' }))).resolves.toMatchObject({
      code: status.NOT_FOUND,
      apogeeCode: 'TOPIC_NOT_FOUND',
    });
    await expect(failure(client().call('UpdateTopic', { name: 'missing', write_queue_count: 2 }))).resolves.toMatchObject({
      code: status.NOT_FOUND,
    });
    await expect(failure(client().call('DeleteGroup', { name: 'missing' }))).resolves.toMatchObject({
      code: status.NOT_FOUND,
      apogeeCode: 'GROUP_NOT_FOUND',
    });
    await expect(failure(client().call('CreateGroup', { name: 'billing' }))).resolves.toMatchObject({ code: status.ALREADY_EXISTS });
    await expect(failure(client().call('CreateGroup', { name: 'g', max_delivery_attempts: 0 }))).resolves.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('max delivery attempts 0 is out of range'),
    });
    const subSecond = { name: 'g', retry_policy: { exponential: { initial_ms: 500 } } };
    await expect(failure(client().call('CreateGroup', subSecond))).resolves.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('use whole seconds'),
    });
  });

  it('keeps topics and groups across a broker restart on the same data dir', async () => {
    const topics = await client().call('ListTopics', {});
    const groups = await client().call('ListGroups', {});
    await stop();
    await start();
    await expect(client().call('ListTopics', {})).resolves.toEqual(topics);
    await expect(client().call('ListGroups', {})).resolves.toEqual(groups);
    expect(topics.topics).toHaveLength(1);
    expect(groups.groups).toHaveLength(2);
  });

  it('resets a group that never consumed a topic, and answers bad resets with what to fix', async () => {
    const reset = await client().call('ResetOffset', { group: 'billing', topic: 'orders', edge: 'EARLIEST' });
    expect(reset).toMatchObject({ group: 'billing', topic: 'orders', future_timestamp: false });
    expect(reset.queues).toHaveLength(16);
    expect(reset.queues?.[3]).toEqual({ queue_id: 3, new_offset: '0', dropped_inflight: 0 }); // no old position
    const future = await client().call('ResetOffset', { group: 'billing', topic: 'orders', timestamp_ms: Date.now() + 3_600_000 });
    expect(future.future_timestamp).toBe(true);
    expect(future.queues?.[3]).toEqual({ queue_id: 3, old_committed_offset: '0', new_offset: '0', dropped_inflight: 0 });

    await expect(failure(client().call('ResetOffset', { group: 'nobody', topic: 'orders', edge: 'LATEST' }))).resolves.toMatchObject({
      code: status.NOT_FOUND,
      apogeeCode: 'GROUP_NOT_FOUND',
    });
    await expect(failure(client().call('ResetOffset', { group: 'billing', topic: 'nothing', edge: 'LATEST' }))).resolves.toMatchObject({
      code: status.NOT_FOUND,
      apogeeCode: 'TOPIC_NOT_FOUND',
    });
    await expect(failure(client().call('ResetOffset', { group: 'billing', topic: 'orders' }))).resolves.toMatchObject({
      code: status.INVALID_ARGUMENT,
      apogeeCode: 'INVALID_ARGUMENT',
      details: expect.stringContaining('Say where to reset to'),
    });
    await expect(failure(client().call('ResetOffset', { group: 'billing', topic: 'orders', timestamp_ms: -5 }))).resolves.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('Timestamp -5 ms is invalid'),
    });
  });
});
