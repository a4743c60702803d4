/**
 * Wakes long-polling ReceiveMessage calls (doc §3.9) when a message of their topic is
 * dispatched to a consume queue, or when their own timer fires (a redelivery falling due, the
 * end of the polling time). One store listener for the whole broker; waiters are kept per topic.
 * After close() every wait resolves at once, so in-flight long polls answer before gRPC shuts down.
 */
import type { MessageStore } from '@apogee/storage';

interface Waiter {
  readonly topic: string;
  readonly wake: () => void;
}

export class ArrivalNotifier {
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Dispatches seen per topic, so a caller can tell whether one happened since it last looked. */
  private readonly versions = new Map<string, number>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(store: Pick<MessageStore, 'onDispatch'>) {
    this.unsubscribe = store.onDispatch((info) => this.notify(info.topic));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The topic's dispatch counter; pass it to wait() to not miss a dispatch in between. */
  version(topic: string): number {
    return this.versions.get(topic) ?? 0;
  }

  /**
   * Resolves on the next dispatch to `topic` (at once if there was one since `sinceVersion`),
   * after `timeoutMs`, when `cancelled` resolves, or on close(), whichever comes first. Never rejects.
   */
  wait(topic: string, sinceVersion: number, timeoutMs: number, cancelled?: Promise<void>): Promise<void> {
    if (this.closed || this.version(topic) !== sinceVersion) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        topic,
        wake: () => {
          clearTimeout(timer);
          this.remove(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, Math.max(0, timeoutMs)); // wake runs only after this line
      let set = this.waiters.get(topic);
      if (set === undefined) this.waiters.set(topic, (set = new Set()));
      set.add(waiter);
      void cancelled?.then(waiter.wake);
    });
  }

  /** Number of calls waiting (for tests and metrics). */
  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const set of [...this.waiters.values()]) for (const waiter of [...set]) waiter.wake();
  }

  private notify(topic: string): void {
    this.versions.set(topic, this.version(topic) + 1);
    const set = this.waiters.get(topic);
    if (set === undefined) return;
    for (const waiter of [...set]) waiter.wake();
  }

  private remove(waiter: Waiter): void {
    const set = this.waiters.get(waiter.topic);
    if (set === undefined) return;
    set.delete(waiter);
    if (set.size === 0) this.waiters.delete(waiter.topic);
  }
}
