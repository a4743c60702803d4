/**
 * Group commit for per-key work: items added for a key in one synchronous run, or while that
 * key's previous batch is still running (a durable write, typically), go together as one batch. Batches of one key
 * run one after another through the shared KeyedSerializer, so they also stay in order with any
 * other task of that key; different keys run concurrently. `process` answers each item of the
 * batch (a value or an Error, in order); if it throws, every item of the batch fails with it.
 */
import type { KeyedSerializer } from './keyed-serializer';

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (err: unknown) => void;
}

export class KeyedBatcher<I, O> {
  private readonly waiting = new Map<string, Pending<I, O>[]>();

  constructor(
    private readonly serializer: KeyedSerializer,
    private readonly process: (key: string, items: readonly I[]) => Promise<ReadonlyArray<O | Error>>,
  ) {}

  add(key: string, item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const batch = this.waiting.get(key);
      if (batch !== undefined) {
        batch.push({ item, resolve, reject });
        return;
      }
      this.waiting.set(key, [{ item, resolve, reject }]);
      void this.serializer.run(key, () => this.runBatch(key));

    });
  }

  private async runBatch(key: string): Promise<void> {
    await undefined; // one microtask: items added in the same synchronous run (one AckMessage's entries) join this batch
    const batch = this.waiting.get(key) ?? [];
    this.waiting.delete(key);
    try {
      const results = await this.process(key, batch.map((p) => p.item));
      batch.forEach((p, i) => {
        const result = results[i];
        if (result instanceof Error) p.reject(result);
        else p.resolve(result as O);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
