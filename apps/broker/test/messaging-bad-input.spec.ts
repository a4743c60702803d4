import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkHealth, createBrokerAdminClient, MESSAGING_SERVICE_NAME } from '@apogee/protocol';
import { spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { stopProcess } from './registration-fixture';
import { createRawV2Client, wireMessage, type RawV2Client, type ReceiveFrame } from './v2-raw-client';

// Bad input sent to a real broker process (auto-create off), answered in-band with a v2 code and
// a message that says what to fix, after which the broker still serves. What the other suites
// cover already (wrong message type, oversize body, UNIQ_KEY, empty send message id, malformed
// receipt handle, unknown topic, a handle superseded by changeInvisibleDuration) is not repeated.
jest.setTimeout(20_000);

interface Status {
  code: string;
  message: string;
}
type Answer = { status: Status; entries?: { status: Status; message_id?: string }[] };

const duration = (ms: number) => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
const INVISIBLE_MS = 10_000;

function onlyStatus(frames: ReceiveFrame[]): Status {
  const statuses = frames.filter((f) => f.status !== undefined).map((f) => f.status!);
  expect(statuses).toHaveLength(1);
  return statuses[0];
}

describe('bad input through a broker process', () => {
  let dir = '';
  let broker: SpawnedService | undefined;
  let raw: RawV2Client | undefined;

  const receiveRequest = (group: string, topic: string, invisibleMs = INVISIBLE_MS) => ({
    group: { name: group },
    message_queue: { topic: { name: topic }, id: 0, broker: { name: 'broker-a' } },
    filter_expression: { type: 'TAG', expression: '*' },
    batch_size: 8,
    invisible_duration: duration(invisibleMs),
    auto_renew: false,
    long_polling_timeout: duration(200),
  });
  const ack = (group: string, topic: string, entries: object[]) =>
    raw!.call<Answer>('AckMessage', { group: { name: group }, topic: { name: topic }, entries });
  const send = (...messages: object[]) => raw!.call<Answer>('SendMessage', { messages });

  /** Receives from bi-orders for bi-group until one message arrives; returns it and its handle. */
  const receiveOne = async (invisibleMs = INVISIBLE_MS) =>
    waitFor(
      async () => {
        const frames = await raw!.receive(receiveRequest('bi-group', 'bi-orders', invisibleMs));
        const message = frames.find((f) => f.message !== undefined)?.message;
        if (message === undefined) return undefined;
        const system = message.system_properties as { message_id: string; receipt_handle: string; delivery_attempt: number };
        return { id: system.message_id, handle: system.receipt_handle, attempt: system.delivery_attempt };
      },
      { timeoutMs: 8_000, intervalMs: 0, what: 'a message of bi-orders' },
    );

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-bad-input-'));
    broker = await spawnService({ app: 'broker', args: ['--nameservers', '', '--data-dir', path.join(dir, 'data')] });
    const admin = createBrokerAdminClient(broker.grpcAddress);
    try {
      await admin.call('CreateTopic', { name: 'bi-orders', read_queue_count: 1, write_queue_count: 1, message_type: 'NORMAL' });
      await admin.call('CreateGroup', { name: 'bi-group' });
    } finally {
      admin.close();
    }
    raw = createRawV2Client(broker.grpcAddress);
  });

  afterAll(async () => {
    raw?.close();
    if (broker) await stopProcess(broker);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses bad topic names on send, receive and ack, saying what a name may hold', async () => {
    const sent = await send(wireMessage('bad topic!', 'BT1', Buffer.from('x')));
    expect(sent.status).toEqual({ code: 'ILLEGAL_TOPIC', message: expect.stringMatching(/Topic name/) });
    const received = onlyStatus(await raw!.receive(receiveRequest('bi-group', 'bad topic!')));
    expect(received).toEqual({ code: 'ILLEGAL_TOPIC', message: expect.stringMatching(/Topic name/) });
    const acked = await ack('bi-group', 'bad topic!', [{ message_id: 'x', receipt_handle: 'x' }]);
    expect(acked.status).toEqual({ code: 'ILLEGAL_TOPIC', message: expect.stringMatching(/Topic name/) });
    const reserved = await send(wireMessage('RMQ_SYS_TRACE_TOPIC', 'BT2', Buffer.from('x')));
    expect(reserved.status.code).toBe('ILLEGAL_TOPIC');
    expect(reserved.status.message).toMatch(/reserved/i);
  });

  it('refuses bad and unknown group names on receive and ack', async () => {
    for (const group of ['my group', '', 'CID_RMQ_SYS_TRANS']) {
      const status = onlyStatus(await raw!.receive(receiveRequest(group, 'bi-orders')));
      expect(status.code).toBe('ILLEGAL_CONSUMER_GROUP');
      expect(status.message).toMatch(/group/i);
      const acked = await ack(group, 'bi-orders', [{ message_id: 'x', receipt_handle: 'x' }]);
      expect(acked.status.code).toBe('ILLEGAL_CONSUMER_GROUP');
    }
    const unknown = onlyStatus(await raw!.receive(receiveRequest('bi-nobody', 'bi-orders')));
    expect(unknown).toEqual({ code: 'CONSUMER_GROUP_NOT_FOUND', message: expect.stringMatching(/bi-nobody/) });
  });

  it('refuses every reserved system property name as a user property', async () => {
    const names = ['TAGS', 'KEYS', 'DELAY', '__SHARDINGKEY', 'MSG_TYPE', 'TRACE_ON'];
    const answer = await send(...names.map((name, i) => wireMessage('bi-orders', `RP${i}`, Buffer.from('x'), { user_properties: { [name]: 'v' } })));
    expect(answer.entries?.map((e) => e.status.code)).toEqual(names.map(() => 'ILLEGAL_MESSAGE_PROPERTY_KEY'));
    answer.entries?.forEach((entry, i) => expect(entry.status.message).toContain(`"${names[i]}", a name reserved`));
  });

  it('refuses an ack without entries, and without a receipt handle', async () => {
    const none = await ack('bi-group', 'bi-orders', []);
    expect(none.status).toEqual({ code: 'BAD_REQUEST', message: expect.stringMatching(/no entries/) });
    const noHandle = await ack('bi-group', 'bi-orders', [{ message_id: 'x' }]);
    expect(noHandle.status.code).toBe('INVALID_RECEIPT_HANDLE');
    expect(noHandle.status.message).toMatch(/empty/i);
  });

  it('answers a message acked twice, and one acked after it was redelivered, INVALID_RECEIPT_HANDLE', async () => {
    expect((await send(wireMessage('bi-orders', 'AT1', Buffer.from('twice')))).status.code).toBe('OK');
    const first = await receiveOne();
    expect(first.id).toBe('AT1');
    expect((await ack('bi-group', 'bi-orders', [{ message_id: first.id, receipt_handle: first.handle }])).status.code).toBe('OK');
    const twice = await ack('bi-group', 'bi-orders', [{ message_id: first.id, receipt_handle: first.handle }]);
    expect(twice.status.code).toBe('INVALID_RECEIPT_HANDLE');
    expect(twice.status.message).not.toBe('');

    // a short invisible time through ChangeInvisibleDuration, then the redelivery supersedes it
    expect((await send(wireMessage('bi-orders', 'AT2', Buffer.from('late')))).status.code).toBe('OK');
    const popped = await receiveOne();
    const changed = await raw!.call<{ status: Status; receipt_handle: string }>('ChangeInvisibleDuration', {
      group: { name: 'bi-group' },
      topic: { name: 'bi-orders' },
      receipt_handle: popped.handle,
      invisible_duration: duration(200),
      message_id: popped.id,
    });
    expect(changed.status.code).toBe('OK');
    const again = await receiveOne();
    expect(again).toMatchObject({ id: 'AT2', attempt: 2 });
    const late = await ack('bi-group', 'bi-orders', [{ message_id: popped.id, receipt_handle: changed.receipt_handle }]);
    expect(late.status.code).toBe('INVALID_RECEIPT_HANDLE');
    expect(late.status.message).toMatch(/expired|superseded/);
    expect((await ack('bi-group', 'bi-orders', [{ message_id: again.id, receipt_handle: again.handle }])).status.code).toBe('OK');
  });

  it('refuses an ack entry without a message id', async () => {
    expect((await send(wireMessage('bi-orders', 'MI1', Buffer.from('no id on ack')))).status.code).toBe('OK');
    const popped = await receiveOne();
    const answer = await ack('bi-group', 'bi-orders', [{ receipt_handle: popped.handle }]);
    expect(answer.status).toEqual({ code: 'ILLEGAL_MESSAGE_ID', message: expect.stringMatching(/no message_id/) });
    expect(answer.entries?.[0].status.code).toBe('ILLEGAL_MESSAGE_ID');
    // still in flight: the proper ack works
    expect((await ack('bi-group', 'bi-orders', [{ message_id: popped.id, receipt_handle: popped.handle }])).status.code).toBe('OK');
  });

  it('is still serving after all of it', async () => {
    expect(broker!.child.exitCode).toBeNull();
    await expect(checkHealth(broker!.grpcAddress, { service: MESSAGING_SERVICE_NAME })).resolves.toBe('SERVING');
    expect((await send(wireMessage('bi-orders', 'OK1', Buffer.from('fine')))).status.code).toBe('OK');
    expect(broker!.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
  });
});
