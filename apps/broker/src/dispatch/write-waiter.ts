/**
 * Wakes Follow streams that have caught up with the commit log when more of it is written: one
 * store dispatch listener for the whole service (the store dispatches records as soon as their
 * bytes are written, so its maxPhysicalOffset has moved when a wait resolves). After close()
 * every wait resolves at once, so the streams end before gRPC shuts down.
 */
import type { MessageStore } from '@apogee/storage';

export class WriteWaiter {
  private readonly waiters = new Set<() => void>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(private readonly store: Pick<MessageStore, 'onDispatch' | 'maxPhysicalOffset'>) {
    this.unsubscribe = store.onDispatch(() => this.wakeAll());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Number of streams waiting (for tests). */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * Resolves once the log's written end is past `end` (at once if it already is), after
   * `timeoutMs`, when `signal` aborts, or on close(), whichever comes first. Never rejects.
   */
  wait(end: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted || this.store.maxPhysicalOffset > end) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, timeoutMs));
      this.waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.wakeAll();
  }

  private wakeAll(): void {
    if (this.waiters.size === 0) return;
    for (const wake of [...this.waiters]) wake();
  }
}
