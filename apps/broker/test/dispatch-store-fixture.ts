/**
 * Fixture of the dispatch unit specs (src/dispatch): a real MessageStore in a fresh temporary
 * directory per test, closed and removed afterwards, and a message input maker.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MessageStore, type MessageInput } from '@apogee/storage';

export function useDispatchStore(now: () => number = Date.now): () => MessageStore {
  let dir = '';
  let store: MessageStore | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-dispatch-'));
    store = await MessageStore.open({ dir, segmentBytes: 1 << 20, maxBodyBytes: 64 * 1024 }, { now: () => now() });
  });
  afterEach(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });
  return () => store as MessageStore;
}

export function input(i: number, over: Partial<MessageInput> = {}): MessageInput {
  return {
    topic: 'orders',
    queueId: i % 2,
    body: Buffer.from(`body ${i}`),
    messageId: `id-${i}`,
    bornTimestampMs: 1_700_000_000_000 + i,
    keys: [`k${i}`],
    tag: 'T',
    ...over,
  };
}
