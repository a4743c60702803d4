/**
 * TransactionStore: open transactions of TRANSACTION messages (doc §3.6, §4.6, §5.6; format:
 * docs/formats/transaction.md).
 *
 * The commit log holds the half message (half-message.ts); this store holds one durable record
 * per open transaction in a MetaTable (`transactions`), keyed by transaction id (= the message id,
 * as RocketMQ does): where the half message is, its real topic, and the check schedule. Memory
 * and disk are bounded by the open transactions only: a record is deleted when its transaction
 * ends.
 *
 * - SendMessage appends the half message, then records it (durable) before answering OK. A crash
 *   in between leaves a half message with no record: never delivered, and the producer got no OK.
 * - EndTransaction COMMIT appends the message to its real topic, then deletes the record (in that
 *   order: at-least-once; a crash in between delivers it again after a check). ROLLBACK deletes
 *   the record. Both are idempotent for a while: the last RESOLVED_MEMORY resolutions are kept in
 *   memory, so a repeated resolution (a client commit racing a check commit) answers OK and a
 *   contrary one TRANSACTION_ALREADY_RESOLVED; an unknown id is TRANSACTION_NOT_FOUND.
 * - A tick (every `tickMs`) sends every transaction whose next check is due to a live producer of
 *   its topic (the `checker` callback, RecoverOrphanedTransactionCommand over Telemetry): first
 *   `checkDelayMs` after the send, then every `checkIntervalMs`. A check that reached a producer
 *   counts; with no live producer the check is postponed without counting. Once `maxChecks`
 *   checks went unanswered (the producer said "unknown" or nothing) the transaction is rolled back
 *   one interval after the last check. A half message deleted by retention ends its transaction.
 *
 * Operations on one transaction run one after another (KeyedSerializer); different ones run
 * concurrently.
 */
import { ApogeeError } from '@apogee/protocol';
import type { Clock, Logger } from '@apogee/runtime';
import { StorageError, type AppendResult, type MessageStore, type MetaTable, type StoredMessage } from '@apogee/storage';
import { KeyedSerializer } from '../metadata/keyed-serializer';
import { committedInputOf, committedViewOf, halfInfoOf, type HalfMessageInfo } from './half-message';

export const TRANSACTION_TABLE = 'transactions';
const DEFAULT_TICK_MS = 1_000;
/** Resolutions remembered after the record is gone, for idempotent repeats. */
const RESOLVED_MEMORY = 10_000;

export type TransactionResolution = 'COMMIT' | 'ROLLBACK';

/** The durable record of an open transaction (MetaTable value). */
export interface PendingTransaction {
  readonly messageId: string;
  /** The real topic and queue the message goes to on commit. */
  readonly topic: string;
  readonly queueId: number;
  /** Where the half message is in the commit log. */
  readonly physicalOffset: number;
  readonly totalBytes: number;
  readonly createdMs: number;
  /** Checks that reached a producer so far. */
  readonly checks: number;
  readonly nextCheckMs: number;
}

/** What a check asks a producer about: the message as its real topic will hold it. */
export interface TransactionCheck {
  readonly transactionId: string;
  readonly message: StoredMessage;
}

/** Sends a check to a live producer of the message's topic; false when there is none. */
export type TransactionChecker = (check: TransactionCheck) => boolean;

export type TransactionMessageStore = Pick<MessageStore, 'read' | 'appendBatch' | 'minPhysicalOffset' | 'maxPhysicalOffset'>;

export interface TransactionStoreOptions {
  readonly store: TransactionMessageStore;
  readonly table: MetaTable<PendingTransaction>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** First check this long after the send (config transactionCheckDelayMs). */
  readonly checkDelayMs: number;
  /** Then every this long (config transactionCheckIntervalMs). */
  readonly checkIntervalMs: number;
  /** Checks before the transaction is rolled back (config transactionMaxChecks). */
  readonly maxChecks: number;
  readonly tickMs?: number;
}

export interface EndTransactionRequest {
  readonly transactionId: string;
  readonly messageId: string;
  readonly topic: string;
  readonly resolution: TransactionResolution;
}

export class TransactionStore {
  private readonly serializer = new KeyedSerializer();
  private readonly resolved = new Map<string, TransactionResolution>();
  private checker: TransactionChecker | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: TransactionStoreOptions) {}

  /** Open transactions. */
  get pending(): number {
    return this.options.table.size;
  }

  /** Every open transaction (a master's SyncMetadata answer). */
  list(): PendingTransaction[] {
    return Array.from(this.options.table.entries(), ([, t]) => t);
  }

  /**
   * A slave takes its master's open transactions as they are (metadata-sync.ts), so that once
   * promoted it checks them. Returns how many records changed.
   */
  async mirror(master: readonly PendingTransaction[]): Promise<number> {
    const table = this.options.table;
    const wanted = new Map(master.map((t) => [t.messageId, t]));
    const set: Array<[string, PendingTransaction]> = [];
    for (const [id, t] of wanted) if (JSON.stringify(table.get(id)) !== JSON.stringify(t)) set.push([id, t]);
    const gone = Array.from(table.entries(), ([id]) => id).filter((id) => !wanted.has(id));
    if (set.length > 0 || gone.length > 0) await table.update({ set, delete: gone });
    return set.length + gone.length;
  }

  get(transactionId: string): PendingTransaction | undefined {
    return this.options.table.get(transactionId);
  }

  /** Starts checking open transactions through `checker` every tick until pause() or close(). */
  start(checker: TransactionChecker): void {
    if (this.checker !== undefined) return;
    this.checker = checker;
    this.scheduleTick();
  }

  /** Stops checking (the broker stopped being master) and waits for the running tick; start() resumes. */
  async pause(): Promise<void> {
    this.checker = undefined;
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    await this.running;
  }

  /**
   * Records the open transaction of a half message just appended (SendMessage); resolves once
   * the record is durable. The transaction id is the message id.
   */
  async recordHalf(half: AppendResult, messageId: string, topic: string, queueId: number): Promise<string> {
    const nowMs = this.options.clock.now();
    const record: PendingTransaction = {
      messageId,
      topic,
      queueId,
      physicalOffset: half.physicalOffset,
      totalBytes: half.totalBytes,
      createdMs: nowMs,
      checks: 0,
      nextCheckMs: nowMs + this.options.checkDelayMs,
    };
    await this.serializer.run(messageId, () => this.options.table.set(messageId, record));
    this.resolved.delete(messageId);
    return messageId;
  }

  /** Commits or rolls back (EndTransaction); see the header for the answers. */
  end(request: EndTransactionRequest): Promise<void> {
    return this.serializer.run(request.transactionId, () => this.endNow(request));
  }

  /** Checks every transaction due now and rolls back the exhausted ones (tests: instead of ticking). */
  async runOnce(): Promise<void> {
    const nowMs = this.options.clock.now();
    const due = [...this.options.table.entries()].filter(([, record]) => record.nextCheckMs <= nowMs).map(([id]) => id);
    await Promise.all(due.map((id) => this.serializer.run(id, () => this.checkNow(id, nowMs))));
  }

  /** Stops checking and waits for the running tick. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
    await this.running;
  }

  private scheduleTick(): void {
    if (this.closed || this.checker === undefined) return;
    this.tickTimer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((err: unknown) => this.options.logger.error({ err }, 'transaction check tick failed; retrying on the next tick'))
        .finally(() => {
          this.running = undefined;
          this.scheduleTick();
        });
    }, this.options.tickMs ?? DEFAULT_TICK_MS);
    this.tickTimer.unref();
  }

  private async endNow(request: EndTransactionRequest): Promise<void> {
    const { transactionId, resolution } = request;
    const record = this.options.table.get(transactionId);
    if (record === undefined) {
      const earlier = this.resolved.get(transactionId);
      if (earlier === resolution) return; // a repeat (client commit racing a check commit)
      if (earlier !== undefined) {
        throw new ApogeeError(
          'TRANSACTION_ALREADY_RESOLVED',
          `Transaction ${transactionId} was already ${pastTense(earlier)}; it cannot be ${pastTense(resolution)} now`,
        );
      }
      throw new ApogeeError(
        'TRANSACTION_NOT_FOUND',
        `No open transaction ${transactionId} on this broker: unknown id, or resolved (or rolled back after its checks) long ago`,
      );
    }
    if (record.messageId !== request.messageId || record.topic !== request.topic) {
      throw new ApogeeError(
        'TRANSACTION_NOT_FOUND',
        `Transaction ${transactionId} is message ${record.messageId} of topic ${JSON.stringify(record.topic)}, ` +
          `not message ${request.messageId} of topic ${JSON.stringify(request.topic)}; send the ids from the send receipt`,
      );
    }
    if (resolution === 'COMMIT') await this.commit(transactionId, record);
    await this.finish(transactionId, resolution);
  }

  /** Appends the message to its real topic (the record is deleted after, by finish). */
  private async commit(transactionId: string, record: PendingTransaction): Promise<void> {
    const half = this.readHalf(record);
    if (half === undefined) {
      await this.finish(transactionId, 'ROLLBACK');
      throw new ApogeeError(
        'TRANSACTION_NOT_FOUND',
        `The half message of transaction ${transactionId} is gone from the commit log (retention); it cannot be committed`,
      );
    }
    const [result] = await this.options.store.appendBatch([committedInputOf(half.stored, half.info)]);
    if (result instanceof Error) throw result;
  }

  private async finish(transactionId: string, resolution: TransactionResolution): Promise<void> {
    await this.options.table.delete(transactionId);
    this.resolved.set(transactionId, resolution);
    if (this.resolved.size > RESOLVED_MEMORY) this.resolved.delete(this.resolved.keys().next().value as string);
  }

  private async checkNow(transactionId: string, nowMs: number): Promise<void> {
    const { table, logger, maxChecks, checkIntervalMs } = this.options;
    const record = table.get(transactionId);
    if (record === undefined || record.nextCheckMs > nowMs || this.closed) return; // resolved meanwhile
    const fields = { transactionId, topic: record.topic, checks: record.checks };
    if (record.checks >= maxChecks) {
      await this.finish(transactionId, 'ROLLBACK');
      logger.warn(fields, 'transaction rolled back: no resolution after its checks');
      return;
    }
    const half = this.readHalf(record);
    if (half === undefined) {
      await this.finish(transactionId, 'ROLLBACK');
      logger.error(fields, 'transaction rolled back: its half message is gone (retention) or corrupt');
      return;
    }
    const sent = this.checker?.({ transactionId, message: committedViewOf(half.stored, half.info) }) ?? false;
    await table.set(transactionId, { ...record, checks: record.checks + (sent ? 1 : 0), nextCheckMs: nowMs + checkIntervalMs });
    logger.debug({ ...fields, sent }, sent ? 'transaction check sent' : 'transaction check postponed: no live producer of the topic');
  }

  private readHalf(record: PendingTransaction): { stored: StoredMessage; info: HalfMessageInfo } | undefined {
    const { store } = this.options;
    if (record.physicalOffset < store.minPhysicalOffset || record.physicalOffset >= store.maxPhysicalOffset) return undefined;
    let stored: StoredMessage;
    try {
      stored = store.read(record.physicalOffset, record.totalBytes);
    } catch (err) {
      if (err instanceof StorageError && err.code === 'CORRUPT_RECORD') return undefined;
      throw err;
    }
    const info = halfInfoOf(stored);
    return info === undefined || stored.messageId !== record.messageId ? undefined : { stored, info };
  }
}

function pastTense(resolution: TransactionResolution): string {
  return resolution === 'COMMIT' ? 'committed' : 'rolled back';
}
