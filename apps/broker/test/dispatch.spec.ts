import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { Producer } from 'rocketmq-client-nodejs';
import {
  createBrokerDispatchClient,
  ERROR_CODE_METADATA_KEY,
  type BrokerDispatchClient,
  type WireDispatchBatch,
  type WireDispatchEntry,
} from '@apogee/protocol';
import { waitFor } from '@apogee/testing';
import type { RunningBroker } from '../src/start-broker';
import { TIMER_TOPIC } from '../src/timer/timer-message';
import { createTopic, quietClientLogger, shutdownClients, startStandaloneBroker } from './standalone-broker';

// apogee.broker.v1.BrokerDispatch of a broker started in-process on a free port, fed by the
// official Node producer: Follow from 0 and from a saved position (also across a restart on the
// same data directory), a caught-up stream, heartbeats, GetMessages and MessagesByTime.
jest.setTimeout(30_000);

const TOPIC = 'orders';
const BROKER_NAME = 'broker-dispatch-test';

interface Sent {
  messageId: string;
  keys: string[];
}

/** A Follow stream collecting its batches; `stop()` cancels it and waits for the end. */
class Follower {
  readonly batches: WireDispatchBatch[] = [];
  error: ServiceError | undefined;
  ended = false;
  private readonly stream: ClientReadableStream<WireDispatchBatch>;
  private readonly closed: Promise<void>;

  constructor(client: BrokerDispatchClient, fromOffset: number | string, heartbeatMs = 1_000) {
    this.stream = client.follow({ from_offset: fromOffset, heartbeat_ms: heartbeatMs, max_batch_entries: 4 });
    this.stream.on('data', (batch: WireDispatchBatch) => this.batches.push(batch));
    this.closed = new Promise<void>((resolve) => {
      this.stream.on('error', (err: ServiceError) => {
        this.error = err;
        resolve();
      });
      this.stream.on('end', () => {
        this.ended = true;
        resolve();
      });
    });
  }

  get entries(): WireDispatchEntry[] {
    return this.batches.flatMap((b) => b.entries ?? []);
  }

  /** next_offset of the last batch: where a follower that processed everything resumes. */
  get nextOffset(): string {
    return String(this.batches[this.batches.length - 1]?.next_offset);
  }

  async waitForEntries(count: number): Promise<WireDispatchEntry[]> {
    return waitFor(() => this.entries.length >= count && this.entries, { what: `${count} dispatch entries`, timeoutMs: 10_000 });
  }

  /** Waits until the stream reports it is caught up (next_offset = max_offset). */
  async waitCaughtUp(): Promise<void> {
    await waitFor(() => {
      const last = this.batches[this.batches.length - 1];
      return last !== undefined && last.next_offset === last.max_offset;
    }, { what: 'a caught-up batch', timeoutMs: 10_000 });
  }

  async stop(): Promise<void> {
    this.stream.cancel();
    await this.closed;
  }

  async closedWith(): Promise<void> {
    await this.closed;
  }
}

describe('BrokerDispatch', () => {
  let dir = '';
  let broker: RunningBroker | undefined;
  let producer: Producer | undefined;
  let client: BrokerDispatchClient | undefined;
  const followers: Follower[] = [];
  const sent: Sent[] = [];

  const follow = (from: number | string, heartbeatMs?: number): Follower => {
    const f = new Follower(client!, from, heartbeatMs);
    followers.push(f);
    return f;
  };

  const send = async (i: number): Promise<Sent> => {
    const keys = [`order-${i}`, `customer-${i % 3}`];
    const receipt = await producer!.send({ topic: TOPIC, body: Buffer.from(`order body ${i}`), tag: 'created', keys });
    const one = { messageId: receipt.messageId, keys };
    sent.push(one);
    return one;
  };

  const start = async (): Promise<void> => {
    broker = await startStandaloneBroker(path.join(dir, 'data'), { autoCreateTopics: true, brokerName: BROKER_NAME });
    producer = new Producer({ endpoints: broker.grpcAddress, namespace: '', topics: [TOPIC], sslEnabled: false, logger: quietClientLogger });
    await producer.startup();
    client = createBrokerDispatchClient(broker.grpcAddress);
  };

  const stop = async (): Promise<void> => {
    for (const f of followers.splice(0)) await f.stop();
    client?.close();
    client = undefined;
    await shutdownClients([producer]);
    producer = undefined;
    await broker?.stop();
    broker = undefined;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-dispatch-'));
    await start();
    for (let i = 0; i < 10; i++) await send(i);
  });

  afterAll(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('follows from 0: every message once, in log order, with its keys and id', async () => {
    const f = follow(0);
    const entries = await f.waitForEntries(sent.length);
    await f.waitCaughtUp();
    expect(entries.map((e) => e.message_id)).toEqual(sent.map((s) => s.messageId));
    expect(entries.map((e) => e.keys)).toEqual(sent.map((s) => s.keys));
    expect(entries[0]).toMatchObject({ topic: TOPIC, tag: 'created', queue_offset: expect.any(String) });
    // Batches chain: each starts where the previous ended; offsets grow along the log.
    expect(f.batches[0].from_offset).toBe('0');
    for (let i = 1; i < f.batches.length; i++) expect(f.batches[i].from_offset).toBe(f.batches[i - 1].next_offset);
    const offsets = entries.map((e) => Number(e.physical_offset));
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
    for (const batch of f.batches) {
      expect(batch.broker_name).toBe(BROKER_NAME);
      for (const e of batch.entries ?? []) expect(Number(e.physical_offset)).toBeLessThan(Number(batch.next_offset));
    }
    await f.stop();
  });

  it('resumes from a batch next_offset with exactly the rest', async () => {
    const all = follow(0);
    await all.waitForEntries(sent.length);
    const cut = all.batches.find((b) => (b.entries?.length ?? 0) > 0 && Number(b.next_offset) < Number(all.batches.at(-1)!.next_offset))!;
    const before = all.batches.slice(0, all.batches.indexOf(cut) + 1).flatMap((b) => b.entries ?? []).length;
    await all.stop();
    const rest = follow(cut.next_offset!);
    await rest.waitForEntries(sent.length - before);
    await rest.waitCaughtUp();
    expect(rest.entries.map((e) => e.message_id)).toEqual(sent.slice(before).map((s) => s.messageId));
    expect(rest.batches[0].from_offset).toBe(cut.next_offset);
    await rest.stop();
  });

  it('delivers a message sent after the stream caught up, and heartbeats while idle', async () => {
    const f = follow(0, 100);
    await f.waitForEntries(sent.length);
    await f.waitCaughtUp();
    const late = await send(100);
    const entries = await f.waitForEntries(sent.length);
    expect(entries.at(-1)).toMatchObject({ message_id: late.messageId, keys: late.keys });
    const seen = f.batches.length;
    const heartbeat = await waitFor(() => f.batches.slice(seen).find((b) => b.entries === undefined), { what: 'a heartbeat' });
    expect(heartbeat).toMatchObject({ next_offset: f.nextOffset, max_offset: f.nextOffset, broker_name: BROKER_NAME });
    await f.stop();
  });

  it('refuses a from_offset past the end with OUT_OF_RANGE, and a negative one with INVALID_ARGUMENT', async () => {
    const past = follow('999999999999');
    await past.closedWith();
    expect(past.error?.code).toBe(status.OUT_OF_RANGE);
    expect(past.error?.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual(['OFFSET_OUT_OF_RANGE']);
    const negative = follow(-1);
    await negative.closedWith();
    expect(negative.error?.code).toBe(status.INVALID_ARGUMENT);
  });

  it('gets messages by physical offset, found = false for a bogus one', async () => {
    const f = follow(0);
    const entries = await f.waitForEntries(sent.length);
    await f.stop();
    const offsets = [entries[1].physical_offset!, '3', entries[0].physical_offset!, '999999999'];
    const answer = await client!.getMessages(offsets);
    expect(answer.broker_name).toBe(BROKER_NAME);
    expect(answer.items?.map((i) => [i.physical_offset, i.found === true])).toEqual([
      [offsets[0], true],
      ['3', false],
      [offsets[2], true],
      ['999999999', false],
    ]);
    expect(answer.items?.[0].message).toMatchObject({ topic: TOPIC, message_id: sent[1].messageId, keys: sent[1].keys, tag: 'created' });
    expect(answer.items?.[0].message?.body?.toString()).toBe('order body 1');
    await expect(client!.getMessages([-5])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('lists messages by store time within the range, paged by cursor', async () => {
    const f = follow(0);
    const entries = await f.waitForEntries(sent.length);
    await f.stop();
    const times = entries.map((e) => Number(e.store_timestamp_ms));
    const fromMs = times[2];
    const toMs = times[6];
    const expected = entries.filter((e) => Number(e.store_timestamp_ms) >= fromMs && Number(e.store_timestamp_ms) <= toMs);
    const got: string[] = [];
    let cursor = '';
    let pages = 0;
    do {
      const page = await client!.messagesByTime({ topic: TOPIC, from_ms: fromMs, to_ms: toMs, limit: 2, cursor });
      expect(page.messages?.length ?? 0).toBeLessThanOrEqual(2);
      for (const m of page.messages ?? []) {
        expect(Number(m.store_timestamp_ms)).toBeGreaterThanOrEqual(fromMs);
        expect(Number(m.store_timestamp_ms)).toBeLessThanOrEqual(toMs);
        got.push(m.message_id!);
      }
      cursor = page.next_cursor ?? '';
      pages++;
    } while (cursor !== '' && pages < 50);
    expect(got.sort()).toEqual(expected.map((e) => e.message_id!).sort());
    await expect(client!.messagesByTime({ topic: 'no-such-topic' })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('continues from a saved next_offset after a restart, with no gap and no duplicate', async () => {
    const f = follow(0);
    await f.waitForEntries(sent.length);
    await f.waitCaughtUp();
    const saved = f.nextOffset;
    const before = f.entries.length;
    await f.stop();
    await stop();
    await start();
    for (let i = 200; i < 205; i++) await send(i);
    const resumed = follow(saved);
    const entries = await resumed.waitForEntries(5);
    await resumed.waitCaughtUp();
    expect(entries.map((e) => e.message_id)).toEqual(sent.slice(before).map((s) => s.messageId));
    expect(resumed.batches[0].from_offset).toBe(saved);
  });

  it('shows a DELAY message once, when it is released into its topic, not while it waits', async () => {
    await createTopic(broker!.grpcAddress, 'delayed', 1, 'DELAY');
    const f = follow(0, 50);
    await f.waitCaughtUp();
    const keys = ['delayed-1'];
    const receipt = await producer!.send({ topic: 'delayed', body: Buffer.from('later'), keys, deliveryTimestamp: new Date(Date.now() + 300) });
    const released = await waitFor(() => f.entries.find((e) => e.topic === 'delayed'), { what: 'the released message', timeoutMs: 10_000 });
    expect(released).toMatchObject({ message_id: receipt.messageId, keys });
    await f.waitCaughtUp();
    expect(f.entries.filter((e) => e.message_id === receipt.messageId)).toHaveLength(1);
    expect(f.entries.some((e) => e.topic === TIMER_TOPIC)).toBe(false);
  });

  it('ends Follow streams when the broker stops', async () => {
    const f = follow(0);
    await f.waitCaughtUp();
    await shutdownClients([producer]); // its Telemetry stream would hold the server up to its grace period
    producer = undefined;
    const started = Date.now();
    await broker!.stop();
    broker = undefined;
    await f.closedWith();
    expect(f.error).toBeUndefined();
    expect(f.ended).toBe(true); // ended by the broker with OK, not cut off at the shutdown grace period
    expect(Date.now() - started).toBeLessThan(4_000);
    followers.splice(followers.indexOf(f), 1);
  });
});
