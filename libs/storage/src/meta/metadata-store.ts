/**
 * MetadataStore: one directory of named MetaTables (`topics`, `subscription-groups`,
 * `consumer-offsets`, …), opened on first use and closed together. The directory is owned by
 * one process; two processes writing the same table would interleave journals (the broker's
 * directory lock is a later issue). Layout and crash safety: meta-table.ts and docs/decisions/0001.
 */
import { StorageError } from '../errors';
import { makeDirectoryDurably, nodeMetaFileSystem, toStorageError } from './meta-fs';
import { MetaTable, type MetaTableOptions } from './meta-table';
import { assertTableName, listTableFiles } from './table-files';

export type MetadataStoreOptions = MetaTableOptions;

export class MetadataStore {
  private readonly tables = new Map<string, Promise<MetaTable<unknown>>>();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private readonly options: MetadataStoreOptions,
  ) {}

  /** Opens the store, creating `dir` (and parents, durably) if needed. Tables open lazily via `table()`. */
  static async open(dir: string, options: MetadataStoreOptions = {}): Promise<MetadataStore> {
    const fs = options.fs ?? nodeMetaFileSystem;
    try {
      await makeDirectoryDurably(fs, dir);
    } catch (err) {
      throw toStorageError(err, `create metadata directory ${dir}`);
    }
    return new MetadataStore(dir, options);
  }

  /**
   * The table `name`, recovered on first use; later calls return the same instance. The value
   * type is the caller's promise: values are JSON, so keep one type per table name.
   */
  async table<T = unknown>(name: string): Promise<MetaTable<T>> {
    if (this.closing !== undefined) throw new StorageError('STORE_CLOSED', `metadata store ${this.dir} is closed`);
    assertTableName(name);
    let opening = this.tables.get(name);
    if (opening === undefined) {
      opening = MetaTable.open<unknown>(this.dir, name, this.options);
      this.tables.set(name, opening);
      opening.catch(() => this.tables.delete(name)); // the caller gets the error; a retry reopens
    }
    return (await opening) as MetaTable<T>;
  }

  /** Whether table `name` has files in the store (opened or not): for migrations from old tables. */
  async exists(name: string): Promise<boolean> {
    assertTableName(name);
    if (this.tables.has(name)) return true;
    const files = await listTableFiles(this.options.fs ?? nodeMetaFileSystem, this.dir, name);
    return files.hasSnapshot || files.hasSnapshotTmp || files.journalGenerations.length > 0;
  }

  /** Names of the tables opened so far. */
  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  /** Flushes queued writes and closes every table; the first failure is rethrown after all closed. */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      const results = await Promise.allSettled(
        [...this.tables.values()].map(async (opening) => {
          const table = await opening.catch(() => undefined); // its open failure was already reported
          await table?.close();
        }),
      );
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    })();
    return this.closing;
  }
}
