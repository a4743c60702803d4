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

  /**
   * Makes the table hold exactly `values` (a slave copying its master): stores each one missing
   * or different, deletes each name not among them. Returns the changes made, in that order.
   */
  async mirror(values: readonly T[]): Promise<Array<{ kind: 'created' | 'updated' | 'deleted'; value: T }>> {
    const changes: Array<{ kind: 'created' | 'updated' | 'deleted'; value: T }> = [];
    const wanted = new Set(values.map((v) => v.name));
    for (const value of values) {
      const change = await this.serializer.run(value.name, async () => {
        const existing = this.table.get(value.name);
        if (existing !== undefined && JSON.stringify(existing) === JSON.stringify(value)) return undefined;
        return { kind: existing === undefined ? ('created' as const) : ('updated' as const), value: await this.store(value.name, value) };
      });
      if (change !== undefined) changes.push(change);
    }
    for (const existing of this.list()) {
      if (wanted.has(existing.name)) continue;
      const removed = await this.serializer.run(existing.name, async () => {
        const current = this.table.get(existing.name);
        if (current === undefined) return undefined;
        await this.table.delete(existing.name);
        return current;
      });
      if (removed !== undefined) changes.push({ kind: 'deleted', value: removed });
    }
    return changes;
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
