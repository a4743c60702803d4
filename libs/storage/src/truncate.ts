import type { PhysicalOffset } from './codec/record-codec';
import type { CommitLog } from './commit-log/commit-log';
import type { ConsumeQueueStore } from './consume-queue/consume-queue-store';
import type { Dispatcher } from './dispatch/dispatcher';
import { StorageError } from './errors';

/** What MessageStore.truncateTail cut. */
export interface TruncateResult {
  /** The log end before the cut. */
  readonly from: PhysicalOffset;
  /** The new log end. */
  readonly to: PhysicalOffset;
  readonly bytesCut: number;
  readonly segmentsDeleted: number;
  readonly consumeQueueEntriesCut: number;
}

/** The parts of the store a truncation cuts, and how it checkpoints and fails the store. */
export interface TruncateTarget {
  readonly log: CommitLog;
  readonly queues: ConsumeQueueStore;
  readonly dispatcher: Dispatcher;
  /** Syncs the consume queues and durably writes a checkpoint whose offsets are at most `limit`. */
  checkpointAtMost(limit: PhysicalOffset): Promise<void>;
  /** Makes the store read-only: a cut that failed half-way is for recovery to finish. */
  fail(err: StorageError): void;
}

/**
 * Cuts the store back to `to` online (format and crash behaviour: docs/formats/recovery.md,
 * "Tail truncation"). The caller refuses appends meanwhile. Order, so that a kill at any point
 * recovers to the old log or to `to`, never to a mix:
 * 1. drain: every append already accepted is written and synced; then `to` is checked;
 * 2. a checkpoint at most `to` (recovery must never start scanning past the new end);
 * 3. the log cut, durable (log-cut.ts: the segment holding `to` first, then later files);
 * 4. derived data: consume-queue tails, the dispatcher's position; the cut queues are synced.
 * A crash after 3 is finished by recovery, which drops consume-queue entries past the log end.
 */
export async function truncateStore(target: TruncateTarget, to: PhysicalOffset): Promise<TruncateResult> {
  const { log, queues, dispatcher } = target;
  await log.drain();
  const from = log.maxOffset;
  const at = log.truncationPoint(to);
  if (at === from) return { from, to: at, bytesCut: 0, segmentsDeleted: 0, consumeQueueEntriesCut: 0 };
  try {
    await target.checkpointAtMost(at);
    const cut = log.truncateTail(at);
    let consumeQueueEntriesCut = 0;
    for (const queue of queues.all()) consumeQueueEntriesCut += queue.truncateTo(at);
    dispatcher.resetTo(at);
    await queues.syncAll();
    return { from, to: at, ...cut, consumeQueueEntriesCut };
  } catch (err) {
    const failure =
      err instanceof StorageError && err.code === 'IO_ERROR'
        ? err
        : new StorageError('IO_ERROR', `truncating the log to ${at} failed: ${(err as Error).message}`, { cause: err });
    target.fail(failure);
    throw failure;
  }
}
