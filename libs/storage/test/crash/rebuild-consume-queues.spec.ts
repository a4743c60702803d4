/**
 * Crash suite: consume queues are derived data. Deleted, or behind the commit log after a crash,
 * they are rebuilt at open to exactly what they were: same ranges, same entries.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MessageStore, type MessageInput } from '../../src/index';
import { useTempDir } from '../temp-dir';
import { messageOf } from './crash-messages';
import { SMALL_STORE, queueSnapshot } from './crash-store';

const root = useTempDir('apogee-crash-rebuild-');

/** Three topics with different queue counts; 64-entry queue segments, so queues span files. */
function messagesFrom(first: number, count: number): MessageInput[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = first + i;
    const topic = ['orders', 'payments', 'audit'][seq % 3];
    return messageOf(seq, { topic, queues: [4, 3, 1][seq % 3], bodyBytes: 100 + ((seq * 131) % 4000) });
  });
}

async function appendAll(store: MessageStore, messages: MessageInput[]): Promise<void> {
  await Promise.all(messages.map((m) => store.append(m)));
}


/**
 * A live store with 800 messages checkpointed and 700 more; `crash` copies its folder (what a
 * kill -9 would leave: SYNC, so all acked is on disk) and lets the test alter the copy, then the
 * copy is reopened and handed to `check` with the live store's queues.
 */
async function withCrashedCopy(
  alter: (crashed: string, live: string) => void,
  check: (reopened: MessageStore, live: MessageStore, checkpointedEnd: number) => void,
): Promise<void> {
  const live = join(root(), 'live');
  const crashed = join(root(), 'crashed');
  const queuesAtCheckpoint = join(root(), 'cq-at-checkpoint');
  const store = await MessageStore.open({ dir: live, ...SMALL_STORE });
  try {
    await appendAll(store, messagesFrom(0, 800));
    await store.checkpoint();
    const checkpointedEnd = store.maxPhysicalOffset;
    cpSync(join(live, 'consumequeue'), queuesAtCheckpoint, { recursive: true });
    await appendAll(store, messagesFrom(800, 700));
    cpSync(live, crashed, { recursive: true });
    alter(crashed, queuesAtCheckpoint);
    const reopened = await MessageStore.open({ dir: crashed, ...SMALL_STORE });
    try {
      check(reopened, store, checkpointedEnd);
    } finally {
      await reopened.close();
    }
  } finally {
    await store.close();
  }
}

describe('crash: deleted or stale consume queues', () => {
  it('rebuilds a deleted consumequeue folder after a clean close, identical to before', async () => {
    const dir = join(root(), 'store');
    let store = await MessageStore.open({ dir, ...SMALL_STORE });
    await appendAll(store, messagesFrom(0, 1500));
    const before = queueSnapshot(store);
    const logEnd = store.maxPhysicalOffset;
    await store.close();
    rmSync(join(dir, 'consumequeue'), { recursive: true });
    store = await MessageStore.open({ dir, ...SMALL_STORE });
    try {
      expect(store.recovery).toMatchObject({
        cleanShutdown: true,
        rebuiltConsumeQueues: true,
        scannedFrom: 0,
        recordsScanned: 1500,
        logEnd,
        corruption: null,
        bytesCut: 0,
      });
      expect(queueSnapshot(store)).toEqual(before);
      const next = await store.append(messagesFrom(1500, 1)[0]); // orders, queue 0
      expect(next.queueOffset).toBe(before['orders/0'].max);
    } finally {
      await store.close();
    }
  });

  it('rebuilds a deleted consumequeue folder after a crash, identical to the live store', async () => {
    await withCrashedCopy(
      (crashed) => rmSync(join(crashed, 'consumequeue'), { recursive: true }),
      (reopened, live) => {
        expect(reopened.recovery).toMatchObject({
          cleanShutdown: false,
          rebuiltConsumeQueues: true,
          scannedFrom: 0,
          recordsScanned: 1500,
          logEnd: live.maxPhysicalOffset,
          corruption: null,
        });
        expect(queueSnapshot(reopened)).toEqual(queueSnapshot(live));
      },
    );
  });

  it('after a crash, writes again the entries past the checkpoint that never reached the queue files', async () => {
    await withCrashedCopy(
      (crashed, queuesAtCheckpoint) => {
        // The queue files as they were at the checkpoint: every later entry is missing.
        rmSync(join(crashed, 'consumequeue'), { recursive: true });
        cpSync(queuesAtCheckpoint, join(crashed, 'consumequeue'), { recursive: true });
      },
      (reopened, live, checkpointedEnd) => {
        expect(reopened.recovery).toMatchObject({
          cleanShutdown: false,
          rebuiltConsumeQueues: false,
          scannedFrom: checkpointedEnd,
          recordsScanned: 700,
          logEnd: live.maxPhysicalOffset,
          corruption: null,
          consumeQueueEntriesCut: 0,
        });
        expect(queueSnapshot(reopened)).toEqual(queueSnapshot(live));
      },
    );
  });

  it('rebuilds one deleted queue folder too, instead of reusing its QueueOffsets', async () => {
    const dir = join(root(), 'store');
    let store = await MessageStore.open({ dir, ...SMALL_STORE });
    await appendAll(store, messagesFrom(0, 600));
    const before = queueSnapshot(store);
    await store.close();
    rmSync(join(dir, 'consumequeue', 'orders', '1'), { recursive: true });
    store = await MessageStore.open({ dir, ...SMALL_STORE });
    try {
      const range = store.queueRange('orders', 1);
      const next = await store.append(messageOf(601, { topic: 'orders', queues: 4 })); // queue 1
      expect({ range, nextQueueOffset: next.queueOffset }).toEqual({
        range: { min: 0, max: before['orders/1'].max },
        nextQueueOffset: before['orders/1'].max,
      });
      expect(queueSnapshot(store)['orders/1'].entries.slice(0, -1)).toEqual(before['orders/1'].entries);
    } finally {
      await store.close();
    }
  });
});
