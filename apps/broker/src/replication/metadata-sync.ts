/**
 * Replication of what is not in the commit log: topics, consumer groups and consumer positions
 * (replication.proto SyncMetadata), copied by each slave from its master every `intervalMs`, as
 * RocketMQ's slaves sync topic configs, subscription groups and consumer offsets.
 *
 * - Topics and groups: the slave's tables become the master's (TopicRegistry/GroupRegistry.mirror),
 *   so a promoted slave serves the same topics and groups, and registers them.
 * - Positions: the slave stores each queue's committed offset as both committed and next. The
 *   master's in-flight (popped, unacked) messages are not copied, so after a failover they are
 *   delivered again from the committed offset: at least once, never lost.
 * A failed sync is logged once per failure streak and retried at the next interval.
 */
import { ApogeeError, createReplicationClient, type ReplicationClient, type WireMetadataSnapshot } from '@apogee/protocol';
import type { TopicConfig } from '@apogee/routing';
import type { Logger } from '@apogee/runtime';
import type { ConsumerOffsets } from '../consumer/consumer-offsets';
import { queueKey } from '../consumer/queue-ref';
import type { GroupConfig } from '../metadata/group-config';
import type { GroupRegistry } from '../metadata/group-registry';
import type { TopicRegistry } from '../metadata/topic-registry';

type Position = [group: string, topic: string, queueId: number, committedOffset: number, nextOffset: number];

export interface MetadataTables {
  readonly topics: Pick<TopicRegistry, 'list' | 'mirror'>;
  readonly groups: Pick<GroupRegistry, 'list' | 'mirror'>;
  readonly offsets: ConsumerOffsets;
}

/** The master's answer to SyncMetadata. */
export function metadataSnapshotOf(tables: MetadataTables): WireMetadataSnapshot {
  const positions: Position[] = [];
  for (const [ref, p] of tables.offsets.entries()) positions.push([ref.group, ref.topic, ref.queueId, p.committedOffset, p.nextOffset]);
  return {
    topics_json: JSON.stringify(tables.topics.list()),
    groups_json: JSON.stringify(tables.groups.list()),
    positions_json: JSON.stringify(positions),
  };
}

/** Applies a master's snapshot on a slave; returns how many topics, groups and positions changed. */
export async function applyMetadataSnapshot(tables: MetadataTables, snapshot: WireMetadataSnapshot): Promise<number> {
  const topics = parseArray<TopicConfig>(snapshot.topics_json, 'topics_json');
  const groups = parseArray<GroupConfig>(snapshot.groups_json, 'groups_json');
  const positions = parseArray<Position>(snapshot.positions_json, 'positions_json');
  let changed = (await tables.topics.mirror(topics)) + (await tables.groups.mirror(groups));
  const entries: Array<[string, unknown]> = [];
  for (const [group, topic, queueId, committedOffset] of positions) {
    const ref = { group, topic, queueId };
    const entry = tables.offsets.positionEntry(ref, { committedOffset, nextOffset: committedOffset });
    if (entry !== undefined) entries.push([queueKey(ref), entry[1]]);
  }
  if (entries.length > 0) await tables.offsets.table.setMany(entries);
  changed += entries.length;
  return changed;
}

function parseArray<T>(json: string | undefined, field: string): T[] {
  const value: unknown = JSON.parse(json ?? '[]');
  if (!Array.isArray(value)) throw new ApogeeError('BAD_REQUEST', `SyncMetadata: ${field} is not a JSON array`);
  return value as T[];
}

export interface MetadataFollowerOptions {
  readonly masterAddress: string;
  readonly tables: MetadataTables;
  readonly intervalMs: number;
  readonly logger: Logger;
}

/** A slave's loop: SyncMetadata from the master every intervalMs until stop(). */
export class MetadataFollower {
  private readonly client: ReplicationClient;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failing = false;

  constructor(private readonly options: MetadataFollowerOptions) {
    this.client = createReplicationClient(options.masterAddress);
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.client.close();
  }

  /** One sync (tests call it directly). */
  async syncOnce(): Promise<number> {
    const snapshot = await this.client.syncMetadata(Math.max(2_000, this.options.intervalMs));
    return applyMetadataSnapshot(this.options.tables, snapshot);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.syncOnce()
        .then(
          (changed) => {
            if (this.failing || changed > 0) this.options.logger.info({ changed, master: this.options.masterAddress }, 'metadata synced from master');
            this.failing = false;
          },
          (err: unknown) => {
            if (!this.failing) this.options.logger.warn({ master: this.options.masterAddress, error: (err as Error).message }, 'metadata sync from master failed');
            this.failing = true;
          },
        )
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
