import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApogeeError } from '@apogee/protocol';
import { createLogger } from '@apogee/runtime';
import { MessageStore, MetadataStore, type MessageInput } from '@apogee/storage';
import { HALF_QUEUE_ID, HALF_TOPIC, halfInputOf, PRODUCER_GROUP_PROPERTY, REAL_TOPIC_PROPERTY, TRANSACTION_PROPERTY } from './half-message';
import { TRANSACTION_TABLE, TransactionStore, type PendingTransaction, type TransactionCheck } from './transaction-store';

// The TransactionStore over a real MessageStore and MetadataStore in a temporary directory,
// driven by a fake clock and runOnce() (no ticking): commit, rollback, idempotence, checks,
// rollback after the last check, restart.
const logger = createLogger({ app: 'broker', level: 'silent' });
const T0 = 1_800_000_000_000;
const TOPIC = 'orders';
const DELAY_MS = 5_000;
const INTERVAL_MS = 10_000;
const MAX_CHECKS = 2;

interface Opened {
  store: MessageStore;
  meta: MetadataStore;
  transactions: TransactionStore;
  checks: TransactionCheck[];
}

describe('TransactionStore', () => {
  let dir: string;
  let clock: { now(): number; ms: number };
  let opened: Opened | undefined;
  let producerLive: boolean;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-transaction-store-'));
    clock = { ms: T0, now: () => clock.ms };
    producerLive = true;
  });
  afterEach(async () => {
    if (opened !== undefined) await closeAll(opened);
    opened = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function open(): Promise<Opened> {
    const store = await MessageStore.open({ dir: path.join(dir, 'store') }, { now: () => clock.now() });
    const meta = await MetadataStore.open(path.join(dir, 'meta'));
    const transactions = new TransactionStore({
      store,
      table: await meta.table<PendingTransaction>(TRANSACTION_TABLE),
      clock,
      logger,
      checkDelayMs: DELAY_MS,
      checkIntervalMs: INTERVAL_MS,
      maxChecks: MAX_CHECKS,
      tickMs: 60_000,
    });
    const checks: TransactionCheck[] = [];
    transactions.start((check) => {
      if (producerLive) checks.push(check);
      return producerLive;
    });
    opened = { store, meta, transactions, checks };
    return opened;
  }

  async function closeAll(o: Opened): Promise<void> {
    await o.transactions.close();
    await o.store.close();
    await o.meta.close();
  }

  /** Sends a transactional message as the SendMessage handler does; its transaction id. */
  async function sendHalf(o: Opened, id: string): Promise<string> {
    const input: MessageInput = {
      topic: TOPIC,
      queueId: 1,
      body: Buffer.from(`body ${id}`),
      messageId: id,
      bornTimestampMs: clock.now(),
      bornHost: '127.0.0.1:1',
      keys: ['k'],
      tag: 'tag-a',
      properties: { user: 'u' },
    };
    const half = await o.store.append(halfInputOf(input));
    return o.transactions.recordHalf(half, id, TOPIC, 1);
  }

  const realMessages = (o: Opened) => o.store.readQueue(TOPIC, 1, 0, 100);

  it('keeps a half message in the half topic only; COMMIT appends it to its real topic with its fields', async () => {
    const o = await open();
    const transactionId = await sendHalf(o, 'M1');
    expect(transactionId).toBe('M1');
    expect(o.store.queueRange(HALF_TOPIC, HALF_QUEUE_ID).max).toBe(1);
    expect(realMessages(o)).toHaveLength(0);
    expect(o.transactions.get('M1')).toMatchObject({ topic: TOPIC, queueId: 1, checks: 0, nextCheckMs: T0 + DELAY_MS });

    await o.transactions.end({ transactionId, messageId: 'M1', topic: TOPIC, resolution: 'COMMIT' });
    const [committed] = realMessages(o);
    expect(committed).toMatchObject({ messageId: 'M1', tag: 'tag-a', keys: ['k'], bornHost: '127.0.0.1:1' });
    expect(committed.body.toString()).toBe('body M1');
    expect(committed.properties).toMatchObject({ user: 'u', [TRANSACTION_PROPERTY]: 'true', [PRODUCER_GROUP_PROPERTY]: TOPIC });
    expect(committed.properties[REAL_TOPIC_PROPERTY]).toBeUndefined();
    expect(o.transactions.pending).toBe(0);
  });

  it('ROLLBACK discards; repeats answer OK, contrary or unknown resolutions are refused', async () => {
    const o = await open();
    await sendHalf(o, 'M2');
    const end = (resolution: 'COMMIT' | 'ROLLBACK', transactionId = 'M2') =>
      o.transactions.end({ transactionId, messageId: 'M2', topic: TOPIC, resolution });
    await expect(o.transactions.end({ transactionId: 'M2', messageId: 'other', topic: TOPIC, resolution: 'COMMIT' })).rejects.toMatchObject({
      code: 'TRANSACTION_NOT_FOUND',
    });
    await end('ROLLBACK');
    await end('ROLLBACK');
    await expect(end('COMMIT')).rejects.toMatchObject({ code: 'TRANSACTION_ALREADY_RESOLVED' });
    await expect(end('COMMIT', 'nope')).rejects.toBeInstanceOf(ApogeeError);
    await expect(end('COMMIT', 'nope')).rejects.toMatchObject({ code: 'TRANSACTION_NOT_FOUND' });
    expect(realMessages(o)).toHaveLength(0);
  });

  it('checks after the delay, then every interval, and rolls back one interval after the last check', async () => {
    const o = await open();
    await sendHalf(o, 'M3');
    clock.ms = T0 + DELAY_MS - 1;
    await o.transactions.runOnce();
    expect(o.checks).toHaveLength(0);

    clock.ms = T0 + DELAY_MS;
    await o.transactions.runOnce();
    expect(o.checks).toHaveLength(1);
    expect(o.checks[0]).toMatchObject({ transactionId: 'M3', message: { topic: TOPIC, queueId: 1, messageId: 'M3' } });
    expect(o.checks[0].message.properties[REAL_TOPIC_PROPERTY]).toBeUndefined();

    clock.ms += INTERVAL_MS;
    await o.transactions.runOnce();
    expect(o.checks).toHaveLength(2);
    expect(o.transactions.get('M3')?.checks).toBe(2);

    clock.ms += INTERVAL_MS;
    await o.transactions.runOnce();
    expect(o.checks).toHaveLength(2);
    expect(o.transactions.get('M3')).toBeUndefined();
    await expect(o.transactions.end({ transactionId: 'M3', messageId: 'M3', topic: TOPIC, resolution: 'COMMIT' })).rejects.toMatchObject({
      code: 'TRANSACTION_ALREADY_RESOLVED',
    });
  });

  it('does not count checks while no producer is connected', async () => {
    const o = await open();
    await sendHalf(o, 'M4');
    producerLive = false;
    for (let i = 0; i < 5; i++) {
      clock.ms += INTERVAL_MS;
      await o.transactions.runOnce();
    }
    expect(o.transactions.get('M4')).toMatchObject({ checks: 0 });
    producerLive = true;
    clock.ms += INTERVAL_MS;
    await o.transactions.runOnce();
    expect(o.checks.map((c) => c.transactionId)).toEqual(['M4']);
  });

  it("mirrors a master's open transactions (a slave's copy), and then checks them as its own", async () => {
    const o = await open();
    await sendHalf(o, 'local-only'); // gone on the master: dropped from the copy
    const master = [
      { messageId: 'm1', topic: TOPIC, queueId: 1, physicalOffset: 0, totalBytes: 10, createdMs: clock.now(), checks: 2, nextCheckMs: clock.now() },
    ];
    expect(await o.transactions.mirror(master)).toBe(2);
    expect(o.transactions.list()).toEqual(master);
    expect(await o.transactions.mirror(master)).toBe(0); // unchanged: nothing written
  });

  it('keeps open transactions and their check counts across a restart, and commits them after', async () => {
    const first = await open();
    await sendHalf(first, 'M5');
    clock.ms = T0 + DELAY_MS;
    await first.transactions.runOnce();
    await closeAll(first);
    opened = undefined;

    const second = await open();
    expect(second.transactions.get('M5')).toMatchObject({ checks: 1, nextCheckMs: T0 + DELAY_MS + INTERVAL_MS });
    await second.transactions.end({ transactionId: 'M5', messageId: 'M5', topic: TOPIC, resolution: 'COMMIT' });
    expect(realMessages(second).map((m) => m.messageId)).toEqual(['M5']);
  });
});
