/**
 * Indexer: the KeyIndex (<dataDir>/key-index) plus the checkpoint that makes it crash-safe
 * (<dataDir>/meta, see checkpoint.ts for the record and the no-gap/no-duplicate rule).
 *
 * Written by the broker followers (apply: one Follow batch at a time, synchronously) and by the
 * checkpoint timer (checkpoint: flush the index, then store positions + entry count in one record).
 * Read by the queries (lookup, brokerName).
 *
 * Per stored message: one entry per key under indexKey(topic, key) and one under
 * messageIdKey(id), all with the broker's stable brokerIndex, its PhysicalOffset and store time.
 *
 * After a crash: KeyIndex.open drops entries past the checkpoint's durableEntries and each broker
 * resumes at its checkpointed nextOffset. If the index files hold fewer entries than the
 * checkpoint claims (files deleted or cut by hand or by the disk), the index is rebuilt from
 * scratch: files removed, every broker followed again from offset 0 (the broker continues at its
 * oldest retained offset).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { indexKey, KeyIndex, messageIdKey, MetadataStore, type KeyIndexInput, type MetaTable } from '@apogee/storage';
import type { Logger } from '@apogee/runtime';
import {
  CHECKPOINT_KEY,
  CHECKPOINT_TABLE,
  EMPTY_CHECKPOINT,
  MAX_BROKER_INDEX,
  parseCheckpoint,
  type BrokerCheckpoint,
  type Checkpoint,
} from './checkpoint';
import { int64FromWire, type WireDispatchBatch, type WireDispatchEntry } from '@apogee/protocol';

export interface IndexerOptions {
  readonly slotCount?: number;
  readonly entriesPerFile?: number;
  readonly logger: Logger;
}

/** What the indexer knows of one broker's stream. */
export interface BrokerPosition {
  readonly brokerName: string;
  readonly brokerIndex: number;
  /** Where the stream continues: everything below is indexed. */
  nextOffset: number;
  /** The broker's log end and oldest retained offset, from the last batch (0 before one). */
  maxOffset: number;
  minOffset: number;
  /** Store time of the newest message indexed (0 if none since start). */
  indexedStoreTimeMs: number;
}

export interface ApplyResult {
  readonly messages: number;
  readonly entries: number;
}

/** The index entries of one stored message: one per distinct key, plus its id. */
export function entriesOf(entry: WireDispatchEntry, brokerIndex: number): KeyIndexInput[] {
  const physicalOffset = int64FromWire(entry.physical_offset);
  const storeTimeMs = int64FromWire(entry.store_timestamp_ms);
  const topic = entry.topic ?? '';
  const out: KeyIndexInput[] = [];
  for (const key of new Set(entry.keys ?? [])) {
    if (key !== '') out.push({ key: indexKey(topic, key), brokerIndex, physicalOffset, storeTimeMs });
  }
  if (entry.message_id) out.push({ key: messageIdKey(entry.message_id), brokerIndex, physicalOffset, storeTimeMs });
  return out;
}

export class Indexer {
  private readonly positions = new Map<string, BrokerPosition>();
  private readonly names = new Map<number, string>();
  private checkpointing: Promise<void> | null = null;
  private dirty = false;
  private checkpointWaiters: (() => void)[] = [];

  private constructor(
    private index: KeyIndex,
    private readonly meta: MetadataStore,
    private readonly table: MetaTable<unknown>,
  ) {}

  static async open(dataDir: string, options: IndexerOptions): Promise<Indexer> {
    const meta = await MetadataStore.open(path.join(dataDir, 'meta'));
    try {
      const table = await meta.table<unknown>(CHECKPOINT_TABLE);
      const stored = table.get(CHECKPOINT_KEY);
      const checkpoint = stored === undefined ? EMPTY_CHECKPOINT : parseCheckpoint(stored);
      const dir = path.join(dataDir, 'key-index');
      const keyIndexOptions = { slotCount: options.slotCount, entriesPerFile: options.entriesPerFile };
      let index = KeyIndex.open(dir, { ...keyIndexOptions, durableEntries: checkpoint.durableEntries });
      let brokers = checkpoint.brokers;
      const report = index.openReport;
      options.logger.info({ ...report, deletedFiles: report.deletedFiles.length, checkpoint: checkpoint.durableEntries }, 'key index opened');
      // KeyIndex keeps at least one file, so no file at all under a non-zero checkpoint is a loss too.
      const lost = report.missingEntries > 0 || (report.files === 0 && checkpoint.durableEntries > 0);
      if (lost) {
        options.logger.error({ missingEntries: report.missingEntries || checkpoint.durableEntries }, 'key index lost checkpointed entries; rebuilding it from the brokers');
        await index.close();
        rmSync(dir, { recursive: true, force: true });
        index = KeyIndex.open(dir, { ...keyIndexOptions, durableEntries: 0 });
        brokers = Object.fromEntries(Object.entries(brokers).map(([name, b]) => [name, { brokerIndex: b.brokerIndex, nextOffset: 0 }]));
        await table.set(CHECKPOINT_KEY, { durableEntries: 0, brokers });
      }
      const indexer = new Indexer(index, meta, table);
      for (const [name, b] of Object.entries(brokers)) indexer.addPosition(name, b);
      return indexer;
    } catch (err) {
      await meta.close().catch(() => undefined);
      throw err;
    }
  }

  /** Index entries appended (durable or not). */
  get entries(): number {
    return this.index.entries;
  }

  /** Entries appended since the last completed checkpoint. */
  get pendingEntries(): number {
    return this.index.entries - this.index.durableEntries;
  }

  get keyIndex(): KeyIndex {
    return this.index;
  }

  /** The broker's position, numbering it on first sight. */
  position(brokerName: string): BrokerPosition {
    const known = this.positions.get(brokerName);
    if (known) return known;
    let brokerIndex = 0;
    while (this.names.has(brokerIndex)) brokerIndex++;
    if (brokerIndex > MAX_BROKER_INDEX) throw new Error(`index-service: more than ${MAX_BROKER_INDEX + 1} brokers`);
    this.dirty = true;
    return this.addPosition(brokerName, { brokerIndex, nextOffset: 0 });
  }

  positionsList(): BrokerPosition[] {
    return [...this.positions.values()];
  }

  brokerName(brokerIndex: number): string | undefined {
    return this.names.get(brokerIndex);
  }

  /**
   * Indexes one Follow batch of `brokerName` and moves its position to the batch's next_offset.
   * Entries below the position (a batch seen before) are skipped, so a replay never indexes twice.
   */
  apply(brokerName: string, batch: WireDispatchBatch): ApplyResult {
    const pos = this.position(brokerName);
    const inputs: KeyIndexInput[] = [];
    let messages = 0;
    let newest = pos.indexedStoreTimeMs;
    for (const entry of batch.entries ?? []) {
      if (int64FromWire(entry.physical_offset) < pos.nextOffset) continue;
      messages++;
      for (const input of entriesOf(entry, pos.brokerIndex)) inputs.push(input);
      newest = Math.max(newest, int64FromWire(entry.store_timestamp_ms));
    }
    if (inputs.length > 0) this.index.append(inputs);
    const next = int64FromWire(batch.next_offset);
    if (next > pos.nextOffset) {
      pos.nextOffset = next;
      this.dirty = true;
    }
    pos.maxOffset = int64FromWire(batch.max_offset);
    pos.minOffset = int64FromWire(batch.min_offset);
    pos.indexedStoreTimeMs = newest;
    return { messages, entries: inputs.length };
  }

  /**
   * Flushes the index and stores the checkpoint (see checkpoint.ts). One at a time: a call while
   * one runs waits for it and then runs again if anything changed.
   */
  async checkpoint(): Promise<void> {
    while (this.checkpointing) await this.checkpointing;
    if (!this.dirty && this.pendingEntries === 0) return;
    this.checkpointing = this.writeCheckpoint().finally(() => {
      this.checkpointing = null;
      const waiters = this.checkpointWaiters;
      this.checkpointWaiters = [];
      for (const wake of waiters) wake();
    });
    return this.checkpointing;
  }

  /** Resolves after the next checkpoint attempt ends (followers pause until then). */
  afterCheckpoint(): Promise<void> {
    return new Promise((resolve) => this.checkpointWaiters.push(resolve));
  }

  /** Deletes index files whose entries are all older than `storeTimeMs`. */
  retireBefore(storeTimeMs: number): Promise<number> {
    return this.index.retireBefore(storeTimeMs);
  }

  /** Stores a last checkpoint and closes the index and the metadata. */
  async close(): Promise<void> {
    try {
      await this.checkpoint();
    } finally {
      await this.index.close();
      await this.meta.close();
    }
  }

  private async writeCheckpoint(): Promise<void> {
    // The positions and flush()'s entry count are taken in the same synchronous step (checkpoint.ts).
    const brokers: Record<string, BrokerCheckpoint> = {};
    for (const p of this.positions.values()) brokers[p.brokerName] = { brokerIndex: p.brokerIndex, nextOffset: p.nextOffset };
    this.dirty = false;
    const flushing = this.index.flush();
    try {
      const durableEntries = await flushing;
      const record: Checkpoint = { durableEntries, brokers };
      await this.table.set(CHECKPOINT_KEY, record);
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }

  private addPosition(brokerName: string, b: BrokerCheckpoint): BrokerPosition {
    const pos: BrokerPosition = { brokerName, brokerIndex: b.brokerIndex, nextOffset: b.nextOffset, maxOffset: 0, minOffset: 0, indexedStoreTimeMs: 0 };
    this.positions.set(brokerName, pos);
    this.names.set(b.brokerIndex, brokerName);
    return pos;
  }
}
