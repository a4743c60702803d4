import * as grpc from '@grpc/grpc-js';
import { ApogeeError, loadMessagingService } from '@apogee/protocol';
import { BrokerForwarder, FORWARDED_BY_HEADER, FORWARDED_HEADER, isForwardedCall } from './broker-forwarder';
import type { WireMessage, WireSendMessageRequest, WireSendMessageResponse } from './v2-wire';

const message = (id: string): WireMessage => ({
  topic: { resource_namespace: '', name: 'orders' },
  system_properties: { message_id: id, message_type: 'FIFO', message_group: 'g', queue_id: 1 },
  body: Buffer.from(id),
});

/** A SendMessage server on a free loopback port; `answer` decides each response. */
async function fakeOwner(answer: (request: WireSendMessageRequest) => WireSendMessageResponse) {
  const seen: { request: WireSendMessageRequest; metadata: grpc.Metadata }[] = [];
  const server = new grpc.Server();
  server.addService(loadMessagingService().service, {
    SendMessage: (
      call: grpc.ServerUnaryCall<WireSendMessageRequest, WireSendMessageResponse>,
      callback: grpc.sendUnaryData<WireSendMessageResponse>,
    ) => {
      seen.push({ request: call.request, metadata: call.metadata });
      callback(null, answer(call.request));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { address: `127.0.0.1:${port}`, seen, stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

const okEntries = (request: WireSendMessageRequest): WireSendMessageResponse => ({
  status: { code: 'OK', message: 'OK' },
  entries: (request.messages ?? []).map((m, k) => ({
    status: { code: 'OK', message: 'OK' },
    message_id: m.system_properties?.message_id ?? '',
    transaction_id: '',
    offset: String(7 + k),
  })),
});

describe('BrokerForwarder', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const forwarder = (timeoutMs?: number): BrokerForwarder => {
    const created = new BrokerForwarder({ brokerName: 'broker-a', timeoutMs });
    cleanups.push(() => created.close());
    return created;
  };

  it("sends the messages in order as a forwarded SendMessage with the caller's client id, and answers the owner's entries", async () => {
    const owner = await fakeOwner(okEntries);
    cleanups.push(owner.stop);
    const caller = new grpc.Metadata();
    caller.set('x-mq-client-id', 'producer-1');
    const entries = await forwarder().forward({ brokerName: 'broker-b', address: owner.address }, [message('m0'), message('m1')], caller);
    expect(entries.map((e) => [e.message_id, e.status.code, e.offset])).toEqual([
      ['m0', 'OK', '7'],
      ['m1', 'OK', '8'],
    ]);
    const [{ request, metadata }] = owner.seen;
    expect(request.messages?.map((m) => [m.system_properties?.message_id, m.system_properties?.queue_id, m.body?.toString()])).toEqual([
      ['m0', 1, 'm0'],
      ['m1', 1, 'm1'],
    ]);
    expect(isForwardedCall(metadata)).toBe(true);
    expect(metadata.get(FORWARDED_HEADER)).toEqual(['1']);
    expect(metadata.get(FORWARDED_BY_HEADER)).toEqual(['broker-a']);
    expect(metadata.get('x-mq-client-id')).toEqual(['producer-1']);
  });

  it('reuses one channel per owner', async () => {
    const owner = await fakeOwner(okEntries);
    cleanups.push(owner.stop);
    const sender = forwarder();
    const target = { brokerName: 'broker-b', address: owner.address };
    await sender.forward(target, [message('m0')]);
    await sender.forward(target, [message('m1')]);
    expect(owner.seen).toHaveLength(2);
    expect((sender as unknown as { clients: Map<string, unknown> }).clients.size).toBe(1);
  });

  it("gives a whole-request refusal of the owner to every message", async () => {
    const owner = await fakeOwner(() => ({ status: { code: 'TOPIC_NOT_FOUND', message: 'no such topic' }, entries: [] }));
    cleanups.push(owner.stop);
    const entries = await forwarder().forward({ brokerName: 'broker-b', address: owner.address }, [message('m0'), message('m1')]);
    expect(entries.map((e) => [e.message_id, e.status.code])).toEqual([
      ['m0', 'TOPIC_NOT_FOUND'],
      ['m1', 'TOPIC_NOT_FOUND'],
    ]);
  });

  it('fails with a retriable FIFO_OWNER_UNAVAILABLE naming the owner when the owner is unreachable or answers badly', async () => {
    const owner = await fakeOwner(() => ({ status: { code: 'OK', message: 'OK' }, entries: [] }));
    cleanups.push(owner.stop);
    const bad = forwarder().forward({ brokerName: 'broker-b', address: owner.address }, [message('m0')]);
    await expect(bad).rejects.toMatchObject({ code: 'FIFO_OWNER_UNAVAILABLE', retriable: true });
    await expect(bad).rejects.toThrow(/broker-b .*answered 0 entries for 1 messages/);

    const dead = await fakeOwner(okEntries);
    await dead.stop();
    const unreachable = forwarder(1_000).forward({ brokerName: 'broker-c', address: dead.address }, [message('m0')]);
    await expect(unreachable).rejects.toBeInstanceOf(ApogeeError);
    await expect(unreachable).rejects.toThrow(/broker broker-c \(127\.0\.0\.1:\d+\); forwarding to it failed/);
  });

  it('refuses to forward after close()', async () => {
    const sender = forwarder();
    sender.close();
    await expect(sender.forward({ brokerName: 'broker-b', address: '127.0.0.1:1' }, [message('m0')])).rejects.toMatchObject({
      code: 'FIFO_OWNER_UNAVAILABLE',
    });
  });
});
