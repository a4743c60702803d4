/**
 * Replication of what is not in the commit log: topics, consumer groups and consumer positions
 * (replication.proto SyncMetadata), copied by each slave from its master every `intervalMs`, as
 * RocketMQ's slaves sync topic configs, subscription groups and consumer offsets.
 *
 * - Topics, groups and open transactions: the slave's tables become the master's
 *   (TopicRegistry/GroupRegistry/TransactionStore.mirror), so a promoted slave serves the same
 *   topics and groups, registers them, and checks the transactions still open. A transaction
 *   ended in the last second before a failover may be checked once more (and its commit
 *   repeated: at least once).
 * - Positions, master → slave: the slave stores each queue's committed offset as both committed
 *   and next. The master's in-flight (popped, unacked) messages are not copied, so after a
 *   failover they are delivered again from the committed offset: at least once, never lost.
 * - Positions, slave → master: while its master is down a slave serves consumers itself (the
 *   nameservers route reads of a group without a master to its slave). A position the slave moved
 *   since it last took the master's, while the master's stayed where it was, is the slave's own
 *   progress: the slave keeps it, and sends it with every SyncMetadata until the master has
 *   taken it (the master takes a position whose committed offset is ahead of its own). So acks
 *   made on the slave during an outage are not delivered again once the master is back.
 * A failed sync is logged once per failure streak and retried at the next interval.
 */
import { ApogeeError, createReplicationClient, type ReplicationClient, type WireMetadataSnapshot } from '@apogee/protocol';
import type { TopicConfig } from '@apogee/routing';
import { RepeatingRound, type Logger } from '@apogee/runtime';
import type { ConsumerOffsets, QueuePosition } from '../consumer/consumer-offsets';
import { queueKey, type QueueRef } from '../consumer/queue-ref';
import type { GroupConfig } from '../metadata/group-config';
import type { GroupRegistry } from '../metadata/group-registry';
import type { TopicRegistry } from '../metadata/topic-registry';
import type { PendingTransaction, TransactionStore } from '../transaction/transaction-store';

type Position = [group: string, topic: string, queueId: number, committedOffset: number, nextOffset: number];

export interface MetadataTables {
  readonly topics: Pick<TopicRegistry, 'list' | 'mirror'>;
  readonly groups: Pick<GroupRegistry, 'list' | 'mirror'>;
  readonly offsets: ConsumerOffsets;
  /** Open transactions; absent: not replicated. */
  readonly transactions?: Pick<TransactionStore, 'list' | 'mirror'>;
}

function positionsOf(offsets: ConsumerOffsets, keep: (ref: QueueRef, p: QueuePosition) => boolean = () => true): Position[] {
  const positions: Position[] = [];
  for (const [ref, p] of offsets.entries()) {
    if (keep(ref, p)) positions.push([ref.group, ref.topic, ref.queueId, p.committedOffset, p.nextOffset]);
  }
  return positions;
}

/** The master's answer to SyncMetadata, after taking the slave's positions that are ahead of its own. */
export async function answerSyncMetadata(tables: MetadataTables, slavePositionsJson: string | undefined): Promise<WireMetadataSnapshot> {
  const entries: Array<[string, unknown]> = [];
  for (const [group, topic, queueId, committedOffset, nextOffset] of parseArray<Position>(slavePositionsJson, 'positions_json')) {
    const ref = { group, topic, queueId };
    const mine = tables.offsets.get(ref);
    if (mine !== undefined && mine.committedOffset >= committedOffset) continue;
    const next = Math.max(mine?.nextOffset ?? 0, nextOffset, committedOffset);
    entries.push([queueKey(ref), { committedOffset, nextOffset: next }]);
  }
  if (entries.length > 0) await tables.offsets.table.setMany(entries);
  return {
    topics_json: JSON.stringify(tables.topics.list()),
    groups_json: JSON.stringify(tables.groups.list()),
    positions_json: JSON.stringify(positionsOf(tables.offsets)),
    transactions_json: JSON.stringify(tables.transactions?.list() ?? []),
  };
}

function parseArray<T>(json: string | undefined, field: string): T[] {
  const value: unknown = JSON.parse(json === undefined || json === '' ? '[]' : json);
  if (!Array.isArray(value)) throw new ApogeeError('BAD_REQUEST', `SyncMetadata: ${field} is not a JSON array`);
  return value as T[];
}

export interface MetadataFollowerOptions {
  readonly masterAddress: string;
  readonly tables: MetadataTables;
  readonly intervalMs: number;
  readonly logger: Logger;
}

/** A slave's loop: SyncMetadata with the master every intervalMs until stop(). */
export class MetadataFollower {
  private readonly client: ReplicationClient;
  /** Per queue key, the position last taken from the master. */
  private readonly fromMaster = new Map<string, QueuePosition>();
  private readonly rounds: RepeatingRound;
  private failing = false;

  constructor(private readonly options: MetadataFollowerOptions) {
    this.client = createReplicationClient(options.masterAddress);
    this.rounds = new RepeatingRound(() => this.syncRound(), options.intervalMs, (err) => {
      if (!this.failing) options.logger.warn({ master: options.masterAddress, error: (err as Error).message }, 'metadata sync from master failed');
      this.failing = true;
    });
  }

  start(): void {
    this.rounds.start();
  }

  async stop(): Promise<void> {
    await this.rounds.stop();
    this.client.close();
  }

  /** One sync; resolves with how many topics, groups and positions changed here. */
  async syncOnce(): Promise<number> {
    const mine = positionsOf(this.options.tables.offsets, (ref, p) => this.movedHere(queueKey(ref), p));
    const snapshot = await this.client.syncMetadata(Math.max(2_000, this.options.intervalMs), JSON.stringify(mine));
    return this.apply(snapshot);
  }

  /** The slave moved this position itself (it served consumers without its master). */
  private movedHere(key: string, local: QueuePosition): boolean {
    const taken = this.fromMaster.get(key);
    if (taken === undefined) return false;
    return local.committedOffset !== taken.committedOffset || local.nextOffset !== taken.committedOffset;
  }

  private async apply(snapshot: WireMetadataSnapshot): Promise<number> {
    const { tables } = this.options;
    const topics = parseArray<TopicConfig>(snapshot.topics_json, 'topics_json');
    const groups = parseArray<GroupConfig>(snapshot.groups_json, 'groups_json');
    let changed = (await tables.topics.mirror(topics)) + (await tables.groups.mirror(groups));
    if (tables.transactions !== undefined && snapshot.transactions_json !== undefined) {
      changed += await tables.transactions.mirror(parseArray<PendingTransaction>(snapshot.transactions_json, 'transactions_json'));
    }
    const entries: Array<[string, unknown]> = [];
    for (const [group, topic, queueId, committedOffset, nextOffset] of parseArray<Position>(snapshot.positions_json, 'positions_json')) {
      const ref = { group, topic, queueId };
      const key = queueKey(ref);
      const master = { committedOffset, nextOffset };
      const taken = this.fromMaster.get(key);
      const local = tables.offsets.get(ref);
      const masterStill = taken !== undefined && taken.committedOffset === committedOffset && taken.nextOffset === nextOffset;
      if (masterStill && local !== undefined && this.movedHere(key, local) && local.committedOffset >= committedOffset) continue;
      this.fromMaster.set(key, master);
      const entry = tables.offsets.positionEntry(ref, { committedOffset, nextOffset: committedOffset });
      if (entry !== undefined) entries.push([key, entry[1]]);
    }
    if (entries.length > 0) await tables.offsets.table.setMany(entries);
    changed += entries.length;
    return changed;
  }

  /** One sync, logged: info once after failures; else debug (consumer positions change at every sync under traffic). */
  private async syncRound(): Promise<void> {
    const changed = await this.syncOnce();
    if (this.failing) this.options.logger.info({ changed, master: this.options.masterAddress }, 'metadata synced from master');
    else if (changed > 0) this.options.logger.debug({ changed, master: this.options.masterAddress }, 'metadata synced from master');
    this.failing = false;
  }

}
