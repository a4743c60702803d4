import type { MetaTable } from '@apogee/storage';
import { KeyedSerializer } from './keyed-serializer';

/**
 * A MetaTable of configs keyed by their name, with the four changes a registry needs. Changes of
 * one name run one at a time (KeyedSerializer), each sees the durable result of the previous one,
 * and each resolves only after its MetaTable write is durable. Reads are synchronous.
 */
export class NamedTable<T extends { readonly name: string }> {
  private readonly serializer = new KeyedSerializer();

  constructor(private readonly table: MetaTable<T>) {}

  get(name: string): T | undefined {
    return this.table.get(name);
  }

  get size(): number {
    return this.table.size;
  }

  /** Every value, sorted by name. */
  list(): T[] {
    return Array.from(this.table.entries(), ([, value]) => value).sort((a, b) => compareNames(a.name, b.name));
  }

  /** Stores `value` unless its name is taken; then rejects with `taken(existing)`. */
  insert(value: T, taken: (existing: T) => Error): Promise<T> {
    return this.serializer.run(value.name, async () => {
      const existing = this.table.get(value.name);
      if (existing !== undefined) throw taken(existing);
      return this.store(value.name, value);
    });
  }

  /** Replaces the value of `name` by `change(current)` (written only if it differs); rejects with `missing()` when absent. */
  modify(name: string, change: (current: T) => T, missing: () => Error): Promise<{ before: T; after: T }> {
    return this.serializer.run(name, async () => {
      const before = this.table.get(name);
      if (before === undefined) throw missing();
      const changed = change(before);
      const after = JSON.stringify(changed) === JSON.stringify(before) ? before : await this.store(name, changed);
      return { before, after };
    });
  }

  /** Deletes `name` and resolves with its last value; rejects with `missing()` when absent. */
  remove(name: string, missing: () => Error): Promise<T> {
    return this.serializer.run(name, async () => {
      const existing = this.table.get(name);
      if (existing === undefined) throw missing();
      await this.table.delete(name);
      return existing;
    });
  }

  /** The value of `name`, first stored from `make()` if absent; concurrent callers share one creation. */
  getOrInsert(name: string, make: () => T): Promise<{ value: T; created: boolean }> {
    return this.serializer.run(name, async () => {
      const existing = this.table.get(name);
      if (existing !== undefined) return { value: existing, created: false };
      return { value: await this.store(name, make()), created: true };
    });
  }

  /** Writes durably and returns the stored (frozen) copy, the one every later read sees. */
  private async store(name: string, value: T): Promise<T> {
    await this.table.set(name, value);
    const stored = this.table.get(name);
    // Unreachable: changes of one name are serialized, so nothing deletes it in between.
    if (stored === undefined) throw new Error(`metadata "${name}" vanished after a durable write`);
    return stored;
  }
}

/** Code-unit order, so listings are stable whatever the locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
