/**
 * The broker's epoch history: for every epoch of its broker group that it lived through, where
 * that epoch starts in the commit log. Kept in the MetaTable `ha-epochs` of the broker's metadata
 * (key: the epoch as a decimal string, value: its start PhysicalOffset), written durably before
 * the broker acts on an epoch. Used as Kafka uses its leader-epoch cache: a master tells a
 * replica whose last epoch is L that L ended where the next epoch of the master's history began,
 * and a replica whose log goes past that point truncates it (replication.proto, `truncate`).
 * Brokers without an ha-replicator have an empty history (epoch 0).
 */
import type { MetaTable, MetadataStore } from '@apogee/storage';

export const EPOCH_TABLE = 'ha-epochs';

export class EpochHistory {
  private entries: Array<{ epoch: number; start: number }>;

  private constructor(private readonly table: MetaTable<number>) {
    this.entries = [...table.entries()].map(([key, start]) => ({ epoch: Number(key), start })).sort((a, b) => a.epoch - b.epoch);
  }

  static async open(metadata: MetadataStore): Promise<EpochHistory> {
    return new EpochHistory(await metadata.table<number>(EPOCH_TABLE));
  }

  /** The newest epoch this broker knows of (0: none). */
  get lastEpoch(): number {
    return this.entries.at(-1)?.epoch ?? 0;
  }

  /** Where the newest epoch starts (0: none). */
  get lastStart(): number {
    return this.entries.at(-1)?.start ?? 0;
  }

  /** Records that `epoch` starts at `start` (durable on return). Ignores an epoch not newer than the last. */
  async record(epoch: number, start: number): Promise<void> {
    if (epoch <= this.lastEpoch) return;
    await this.table.set(String(epoch), start);
    this.entries.push({ epoch, start });
  }

  /** Where `epoch` ended in this broker's history: the start of the first newer epoch, else `logEnd`. */
  endOffsetOf(epoch: number, logEnd: number): number {
    return this.entries.find((e) => e.epoch > epoch)?.start ?? logEnd;
  }

  /** The log was cut back to `to`: epochs that start past it never happened here. */
  async truncated(to: number): Promise<void> {
    const gone = this.entries.filter((e) => e.start > to);
    if (gone.length === 0) return;
    for (const e of gone) await this.table.delete(String(e.epoch));
    this.entries = this.entries.filter((e) => e.start <= to);
  }
}
