import * as grpc from '@grpc/grpc-js';
import { ApogeeError } from './apogee-error';
import {
  BROKER_DISPATCH_SERVICE,
  createBrokerDispatchClient,
  loadBrokerDispatchService,
  type BrokerDispatchClient,
  type WireDispatchBatch,
  type WireFollowRequest,
} from './broker-dispatch';
import { ERROR_CODE_METADATA_KEY, toGrpcStatus } from './error-mapping';

describe('BrokerDispatch proto', () => {
  it('has Follow (server streaming), GetMessages and MessagesByTime', () => {
    const service = loadBrokerDispatchService();
    const methods = service.service;
    expect(Object.keys(methods).sort()).toEqual(['Follow', 'GetMessages', 'MessagesByTime']);
    expect(methods.Follow.path).toBe(`/${BROKER_DISPATCH_SERVICE}/Follow`);
    expect([methods.Follow.requestStream, methods.Follow.responseStream]).toEqual([false, true]);
    expect([methods.GetMessages.requestStream, methods.GetMessages.responseStream]).toEqual([false, false]);
    expect(loadBrokerDispatchService()).toBe(service); // loaded once
  });

  it('decodes int64 as strings, bytes as Buffers, and leaves empty fields out', () => {
    const { Follow, GetMessages } = loadBrokerDispatchService().service;
    const batch = { entries: [{ topic: 't', queue_offset: 7, physical_offset: 2 ** 40, keys: ['a', 'b'] }], next_offset: 99 };
    expect(Follow.responseDeserialize(Follow.responseSerialize(batch))).toEqual({
      entries: [{ topic: 't', queue_offset: '7', physical_offset: '1099511627776', keys: ['a', 'b'] }],
      next_offset: '99',
    });
    const answer = { items: [{ physical_offset: 1, found: true, message: { body: Buffer.from('x'), properties: { a: '1' } } }] };
    expect(GetMessages.responseDeserialize(GetMessages.responseSerialize(answer))).toEqual({
      items: [{ physical_offset: '1', found: true, message: { body: Buffer.from('x'), properties: { a: '1' } } }],
    });
  });
});

describe('createBrokerDispatchClient', () => {
  let server: grpc.Server;
  let client: BrokerDispatchClient;
  const seen: unknown[] = [];

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(loadBrokerDispatchService().service, {
      Follow: (call: grpc.ServerWritableStream<WireFollowRequest, WireDispatchBatch>) => {
        seen.push(call.request);
        call.write({ next_offset: 10, entries: [{ topic: 't', message_id: 'm' }] });
        call.write({ next_offset: 20 });
        call.on('cancelled', () => seen.push('cancelled'));
      },
      GetMessages: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        seen.push(call.request);
        callback(null, { items: [{ physical_offset: 5, found: false }], broker_name: 'b' });
      },
      MessagesByTime: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        callback(toGrpcStatus(new ApogeeError('TOPIC_NOT_FOUND', 'no topic "x"'))),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = createBrokerDispatchClient(`127.0.0.1:${port}`, { timeoutMs: 2_000 });
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  it('streams Follow batches until the caller cancels', async () => {
    const stream = client.follow({ from_offset: 3, heartbeat_ms: 50 });
    const batches: WireDispatchBatch[] = [];
    await new Promise<void>((resolve) => {
      stream.on('data', (batch: WireDispatchBatch) => {
        batches.push(batch);
        if (batches.length === 2) resolve();
      });
    });
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    stream.cancel();
    expect((await ended).code).toBe(grpc.status.CANCELLED);
    expect(batches).toEqual([{ next_offset: '10', entries: [{ topic: 't', message_id: 'm' }] }, { next_offset: '20' }]);
    expect(seen[0]).toEqual({ from_offset: '3', heartbeat_ms: 50 });
  });

  it('sends offsets as int64 and rejects with the mapped status and code', async () => {
    expect(client.address).toMatch(/^127\.0\.0\.1:\d+$/);
    await expect(client.getMessages([5, '6'])).resolves.toEqual({ items: [{ physical_offset: '5', found: false }], broker_name: 'b' });
    expect(seen).toContainEqual({ physical_offsets: ['5', '6'] });
    const err = (await client.messagesByTime({ topic: 'x' }).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe('no topic "x"');
    expect(err.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual(['TOPIC_NOT_FOUND']);
  });
});
