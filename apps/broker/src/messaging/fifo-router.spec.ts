import { Metadata } from '@grpc/grpc-js';
import { ApogeeError } from '@apogee/protocol';
import { createTopicConfig, type TopicConfig } from '@apogee/routing';
import type { AppendResult, MessageInput } from '@apogee/storage';
import type { TopicRegistry } from '../metadata/topic-registry';
import { FORWARDED_HEADER, type ForwardTarget } from './broker-forwarder';
import type { FifoPlacement } from './fifo-owner';
import { FifoRouter } from './fifo-router';
import { QueuePicker } from './queue-picker';
import { sendMessageHandler } from './send-message.handler';
import type { WireMessage, WireSendResultEntry } from './v2-wire';

const TOPIC = 'orders';
const B: ForwardTarget = { brokerName: 'broker-b', address: '127.0.0.1:10001' };

function fifoMessage(id: string, group: string, queueId?: number): WireMessage {
  return {
    topic: { resource_namespace: '', name: TOPIC },
    system_properties: {
      message_id: id,
      message_type: 'FIFO',
      message_group: group,
      ...(queueId === undefined ? {} : { queue_id: queueId }),
    },
    body: Buffer.from(id),
  };
}

/** Owners that place groups named `b-…` on broker-b queue 1 and the rest here in queue 3. */
const owners = {
  placementOf: jest.fn(
    async (_topic: string, group: string): Promise<FifoPlacement> =>
      group.startsWith('b-') ? { kind: 'remote', ...B, queueId: 1 } : { kind: 'local', queueId: 3 },
  ),
};

/** A forwarder that answers OK with offsets 100, 101, … per call, or fails when told to. */
function fakeForwarder(fail?: Error) {
  const calls: { target: ForwardTarget; ids: string[]; queueIds: (number | undefined)[] }[] = [];
  return {
    calls,
    forward: jest.fn(async (target: ForwardTarget, messages: readonly WireMessage[]): Promise<WireSendResultEntry[]> => {
      const ids = messages.map((m) => m.system_properties!.message_id!);
      calls.push({ target, ids, queueIds: messages.map((m) => m.system_properties?.queue_id) });
      if (fail !== undefined) throw fail;
      return ids.map((id, k) => ({ status: { code: 'OK', message: 'OK' }, message_id: id, transaction_id: '', offset: String(100 + k) }));
    }),
  };
}

beforeEach(() => owners.placementOf.mockClear());

describe('FifoRouter.decide', () => {
  it('stores a forwarded call here in the queue the forwarder named, without asking who owns the group (no loops)', async () => {
    const router = new FifoRouter(owners, fakeForwarder());
    const decision = await router.decide({ topic: TOPIC, messageGroup: 'b-1', wire: fifoMessage('m1', 'b-1', 5) }, true);
    expect(decision).toEqual({ kind: 'here', ownerQueueId: 5 });
    expect(owners.placementOf).not.toHaveBeenCalled();
  });

  it('forwards a message of another broker naming the owner queue, and keeps ours in our owner queue', async () => {
    const router = new FifoRouter(owners, fakeForwarder());
    const remote = await router.decide({ topic: TOPIC, messageGroup: 'b-1', wire: fifoMessage('m1', 'b-1', 0) }, false);
    expect(remote).toMatchObject({ kind: 'forward', target: B, wire: { system_properties: { message_id: 'm1', queue_id: 1 } } });
    expect(await router.decide({ topic: TOPIC, messageGroup: 'a-1', wire: fifoMessage('m2', 'a-1') }, false)).toEqual({
      kind: 'here',
      ownerQueueId: 3,
    });
  });
});

describe('FifoRouter.forwardAll', () => {
  it('sends one request per owner in request order and maps the entries back to request positions', async () => {
    const forwarder = fakeForwarder();
    const router = new FifoRouter(owners, forwarder);
    const C: ForwardTarget = { brokerName: 'broker-c', address: '127.0.0.1:10002' };
    const decisions = new Map([
      [4, { kind: 'forward' as const, target: B, wire: fifoMessage('m4', 'b-1') }],
      [0, { kind: 'forward' as const, target: B, wire: fifoMessage('m0', 'b-1') }],
      [2, { kind: 'forward' as const, target: C, wire: fifoMessage('m2', 'c-1') }],
    ]);
    const results = await router.forwardAll(decisions);
    expect(forwarder.calls.map((c) => [c.target.brokerName, c.ids])).toEqual([
      ['broker-b', ['m0', 'm4']],
      ['broker-c', ['m2']],
    ]);
    expect([...results].sort(([a], [b]) => a - b).map(([i, r]) => [i, (r as WireSendResultEntry).offset])).toEqual([
      [0, '100'],
      [2, '100'],
      [4, '101'],
    ]);
  });
});

describe('SendMessage with FIFO routing', () => {
  const topic: TopicConfig = createTopicConfig({ name: TOPIC, messageType: 'FIFO', readQueueCount: 4, writeQueueCount: 4 });
  const topics = { ensureTopicForSend: async () => topic, get: () => topic } as unknown as TopicRegistry;
  const setup = (forwarder: ReturnType<typeof fakeForwarder>) => {
    const appended: MessageInput[] = [];
    const store = {
      appendBatch: jest.fn(async (inputs: readonly MessageInput[]) =>
        inputs.map((input): AppendResult => {
          appended.push(input);
          return { physicalOffset: 0, queueOffset: appended.length - 1, totalBytes: 1, storeTimestampMs: 0 } as unknown as AppendResult;
        }),
      ),
    };
    const handler = sendMessageHandler({
      topics,
      store,
      queues: new QueuePicker('broker-a'),
      maxBodyBytes: 1024,
      clock: { now: () => 1_000 },
      fifo: new FifoRouter(owners, forwarder),
    });
    const call = (messages: WireMessage[], forwarded = false) => {
      const metadata = new Metadata();
      if (forwarded) metadata.set(FORWARDED_HEADER, '1');
      return handler({ messages }, { clientId: 'c', metadata });
    };
    return { appended, call };
  };

  it('stores our groups in the owner queue, forwards the others, and answers every entry in request order', async () => {
    const forwarder = fakeForwarder();
    const { appended, call } = setup(forwarder);
    const response = await call([fifoMessage('m0', 'a-1'), fifoMessage('m1', 'b-1'), fifoMessage('m2', 'a-1'), fifoMessage('m3', 'b-1')]);
    expect(response.entries.map((e) => [e.message_id, e.status.code, e.offset])).toEqual([
      ['m0', 'OK', '0'],
      ['m1', 'OK', '100'],
      ['m2', 'OK', '1'],
      ['m3', 'OK', '101'],
    ]);
    expect(appended.map((m) => [m.messageId, m.queueId])).toEqual([
      ['m0', 3],
      ['m2', 3],
    ]);
    expect(forwarder.calls).toEqual([{ target: B, ids: ['m1', 'm3'], queueIds: [1, 1] }]);
  });

  it('stores a forwarded call here and never forwards it again, even when its view names another owner', async () => {
    const forwarder = fakeForwarder();
    const { appended, call } = setup(forwarder);
    const response = await call([fifoMessage('m0', 'b-1', 2), fifoMessage('m1', 'b-1', 2)], true);
    expect(response.status.code).toBe('OK');
    expect(appended.map((m) => [m.messageId, m.queueId])).toEqual([
      ['m0', 2],
      ['m1', 2],
    ]);
    expect(forwarder.forward).not.toHaveBeenCalled();
  });

  it('a failed forward answers a retriable PROXY_TIMEOUT naming the owner and stores nothing here', async () => {
    const error = new ApogeeError('FIFO_OWNER_UNAVAILABLE', 'The message group belongs to broker broker-b; forwarding to it failed');
    const { appended, call } = setup(fakeForwarder(error));
    const response = await call([fifoMessage('m0', 'b-1'), fifoMessage('m1', 'a-1')]);
    expect(response.entries[0].status).toEqual({ code: 'PROXY_TIMEOUT', message: expect.stringContaining('broker-b') });
    expect(response.entries[1].status.code).toBe('OK');
    expect(response.status.code).toBe('MULTIPLE_RESULTS');
    expect(appended.map((m) => m.messageId)).toEqual(['m1']);
    expect(error.retriable).toBe(true);
  });
});
