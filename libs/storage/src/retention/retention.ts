import { statfsSync } from 'node:fs';
import type { CommitLog } from '../commit-log/commit-log';
import type { ConsumeQueueStore } from '../consume-queue/consume-queue-store';

/**
 * Retention: whole commit-log segments go when they are older than `retentionMs` (by the time of
 * their last write), and earlier, oldest first, while disk use is above the high watermark. The
 * active segment is never deleted. Consume-queue segments that point only into deleted log go too.
 */

export interface RetentionPolicy {
  readonly retentionMs: number;
  readonly diskHighWatermark: number;
}

export interface RetentionResult {
  readonly segmentsDeleted: number;
  readonly bytesFreed: number;
  readonly consumeQueueSegmentsDeleted: number;
  readonly reasons: readonly ('expired' | 'disk-high')[];
  readonly minOffset: number;
}

/** Fraction (0–1) of the file system holding `dir` that is in use. */
export function diskUsageOf(dir: string): number {
  const s = statfsSync(dir);
  return s.blocks === 0 ? 0 : 1 - s.bavail / s.blocks;
}

export function applyRetention(
  log: CommitLog,
  queues: ConsumeQueueStore,
  policy: RetentionPolicy,
  nowMs: number,
  diskUsage: () => number,
): RetentionResult {
  let segmentsDeleted = 0;
  let bytesFreed = 0;
  const reasons: ('expired' | 'disk-high')[] = [];
  for (;;) {
    const oldest = log.oldestInactiveSegment();
    if (!oldest) break;
    const expired = nowMs - oldest.modifiedMs() > policy.retentionMs;
    const diskHigh = !expired && diskUsage() > policy.diskHighWatermark;
    if (!expired && !diskHigh) break;
    const bytes = oldest.fileBytes();
    if (!log.deleteOldestSegment()) break; // a write or sync of it is in flight: next run
    segmentsDeleted++;
    bytesFreed += bytes;
    reasons.push(expired ? 'expired' : 'disk-high');
  }
  let consumeQueueSegmentsDeleted = 0;
  if (segmentsDeleted > 0) {
    for (const queue of queues.all()) consumeQueueSegmentsDeleted += queue.deleteBelow(log.minOffset);
  }
  return { segmentsDeleted, bytesFreed, consumeQueueSegmentsDeleted, reasons, minOffset: log.minOffset };
}
