/**
 * Promises waiting for a position (an offset written or synced), released in order. Kept in
 * parallel arrays with one shared executor, so a waiter costs its Promise and nothing else:
 * at hundreds of thousands of appends a second, a closure and an object per waiter show in GC.
 */
type Resolve = (value: unknown) => void;
type Reject = (err: Error) => void;

/** Compact the arrays once this many released slots sit at their front. */
const COMPACT_AFTER = 1024;

export class WaiterQueue {
  private ends: number[] = [];
  private values: unknown[] = [];
  private resolves: Resolve[] = [];
  private rejects: Reject[] = [];
  private head = 0;
  private capturedResolve: Resolve | null = null;
  private capturedReject: Reject | null = null;
  private readonly capture = (resolve: Resolve, reject: Reject): void => {
    this.capturedResolve = resolve;
    this.capturedReject = reject;
  };

  get size(): number {
    return this.ends.length - this.head;
  }

  /** A promise of `value`, settled when `releaseUpTo` reaches `end` (ends must not decrease). */
  add<T>(end: number, value: T): Promise<T> {
    const promise = new Promise<T>(this.capture as (resolve: (v: T) => void, reject: Reject) => void);
    this.ends.push(end);
    this.values.push(value);
    this.resolves.push(this.capturedResolve as Resolve);
    this.rejects.push(this.capturedReject as Reject);
    return promise;
  }

  releaseUpTo(reached: number): void {
    let i = this.head;
    const n = this.ends.length;
    while (i < n && this.ends[i] <= reached) {
      this.resolves[i](this.values[i]);
      i++;
    }
    this.forget(i);
  }

  rejectAll(err: Error): void {
    const rejects = this.rejects.slice(this.head);
    this.forget(this.ends.length);
    for (const reject of rejects) reject(err);
  }

  private forget(upTo: number): void {
    if (upTo === this.ends.length) {
      this.ends.length = this.values.length = this.resolves.length = this.rejects.length = 0;
      this.head = 0;
    } else if (upTo > COMPACT_AFTER) {
      this.ends = this.ends.slice(upTo);
      this.values = this.values.slice(upTo);
      this.resolves = this.resolves.slice(upTo);
      this.rejects = this.rejects.slice(upTo);
      this.head = 0;
    } else {
      this.head = upTo;
    }
  }
}
