import { StorageError } from './errors';
import type { FlushMode } from './commit-log/commit-log';

/** Everything the message store can be told. Apps build it from their validated config. */
export interface StoreConfig {
  /** Root folder: commitlog/, consumequeue/, checkpoint, abort. */
  readonly dir: string;
  readonly segmentBytes: number;
  readonly cqEntriesPerSegment: number;
  readonly flushMode: FlushMode;
  /** ASYNC: fdatasync at least this often… */
  readonly flushIntervalMs: number;
  /** …and whenever this many bytes are written but not synced. */
  readonly flushDirtyBytes: number;
  /** Most bytes in one write call. */
  readonly maxBatchBytes: number;
  readonly maxBodyBytes: number;
  /** Recorded in every record as the store host (e.g. the broker's advertised address). */
  readonly storeHost: string;
  readonly checkpointIntervalMs: number;
  /** Whole commit-log segments older than this are deleted. */
  readonly retentionMs: number;
  readonly retentionCheckIntervalMs: number;
  /** Disk use (0–1) above which the oldest segments go even before they expire. */
  readonly diskHighWatermark: number;
  /** Disk use (0–1) above which appends are refused with DISK_FULL. */
  readonly diskCriticalWatermark: number;
}

const MiB = 1 << 20;
const HOUR_MS = 3_600_000;

export const DEFAULT_STORE_CONFIG: Omit<StoreConfig, 'dir'> = {
  segmentBytes: 1024 * MiB,
  cqEntriesPerSegment: 300_000,
  flushMode: 'ASYNC',
  flushIntervalMs: 500,
  flushDirtyBytes: 64 * MiB,
  maxBatchBytes: MiB,
  maxBodyBytes: 4 * MiB,
  storeHost: '',
  checkpointIntervalMs: 1000,
  retentionMs: 72 * HOUR_MS,
  retentionCheckIntervalMs: 10_000,
  diskHighWatermark: 0.85,
  diskCriticalWatermark: 0.95,
};

/** Header room a record needs besides its body (fixed fields plus generous variable fields). */
const RECORD_OVERHEAD_BYTES = 256 * 1024;

function bad(message: string): StorageError {
  return new StorageError('INVALID_CONFIG', message);
}

/** Fills defaults and checks the combination; throws INVALID_CONFIG naming the field. */
export function storeConfig(partial: Partial<StoreConfig> & { dir: string }): StoreConfig {
  const c: StoreConfig = Object.freeze({ ...DEFAULT_STORE_CONFIG, ...partial });
  const positive: (keyof StoreConfig)[] = [
    'segmentBytes',
    'cqEntriesPerSegment',
    'flushIntervalMs',
    'flushDirtyBytes',
    'maxBatchBytes',
    'maxBodyBytes',
    'checkpointIntervalMs',
    'retentionMs',
    'retentionCheckIntervalMs',
  ];
  for (const key of positive) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw bad(`${key} must be a positive integer, got ${v}`);
  }
  if (c.flushMode !== 'SYNC' && c.flushMode !== 'ASYNC') throw bad(`flushMode must be SYNC or ASYNC, got ${c.flushMode}`);
  if (c.segmentBytes < c.maxBodyBytes + RECORD_OVERHEAD_BYTES) {
    throw bad(`segmentBytes (${c.segmentBytes}) must exceed maxBodyBytes (${c.maxBodyBytes}) by ${RECORD_OVERHEAD_BYTES}`);
  }
  const marks = [c.diskHighWatermark, c.diskCriticalWatermark];
  if (marks.some((m) => !(m > 0 && m <= 1)) || c.diskHighWatermark > c.diskCriticalWatermark) {
    throw bad('disk watermarks must be in (0, 1] with diskHighWatermark <= diskCriticalWatermark');
  }
  return c;
}
