import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConsumeQueue } from './consume-queue';

/** Every consume queue of the store: `<root>/<topic>/<queueId>/`. */
export class ConsumeQueueStore {
  private readonly queues = new Map<string, Map<number, ConsumeQueue>>();
  private readonly touched = new Set<ConsumeQueue>();
  /** Queues were created since the manifest was last written. */
  changed = false;

  constructor(
    private readonly root: string,
    private readonly entriesPerSegment: number,
  ) {
    mkdirSync(root, { recursive: true });
    for (const topic of readdirSync(root)) {
      for (const id of readdirSync(join(root, topic))) {
        if (/^\d+$/.test(id)) this.getOrCreate(topic, Number(id));
      }
    }
  }

  /** True when no consume queue exists on disk (first start, or deleted to be rebuilt). */
  get isEmpty(): boolean {
    return this.queues.size === 0;
  }

  /** True when one of `expected` has no folder (deleted: the queues must be rebuilt). */
  missesAny(expected: readonly { topic: string; queueId: number }[]): boolean {
    return expected.some((q) => !this.get(q.topic, q.queueId));
  }

  get(topic: string, queueId: number): ConsumeQueue | undefined {
    return this.queues.get(topic)?.get(queueId);
  }

  getOrCreate(topic: string, queueId: number): ConsumeQueue {
    let byId = this.queues.get(topic);
    if (!byId) this.queues.set(topic, (byId = new Map()));
    let queue = byId.get(queueId);
    if (!queue) {
      queue = new ConsumeQueue(topic, queueId, join(this.root, topic, String(queueId)), this.entriesPerSegment);
      byId.set(queueId, queue);
      this.changed = true;
    }
    return queue;
  }

  topics(): string[] {
    return [...this.queues.keys()];
  }

  queuesOf(topic: string): ConsumeQueue[] {
    return [...(this.queues.get(topic)?.values() ?? [])];
  }

  all(): ConsumeQueue[] {
    return [...this.queues.values()].flatMap((m) => [...m.values()]);
  }

  /** Adds one entry to `queue`; `commitTouched` writes the batch. */
  putInto(queue: ConsumeQueue, queueOffset: number, physicalOffset: number, totalBytes: number, tagHash: number): void {
    queue.put(queueOffset, physicalOffset, totalBytes, tagHash);
    this.touched.add(queue);
  }

  commitTouched(): void {
    for (const queue of this.touched) queue.commit();
    this.touched.clear();
  }

  async syncAll(): Promise<void> {
    await Promise.all(this.all().map((q) => q.sync()));
  }

  closeAll(): void {
    for (const queue of this.all()) queue.close();
    this.queues.clear();
    this.touched.clear();
  }
}
