import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MessageStore, type RecoveryReport } from '../src/message-store';
import { createAbortMarker } from '../src/recovery/abort-marker';
import { exited, firstJsonLine, freshDir, progress, spawnChild } from './common';

/**
 * 5. Recovery time per GB after a kill. A child appends ASYNC ~`targetBytes` with no usable
 * checkpoint and is SIGKILLed while still appending; the checkpoint file, if any, is deleted.
 * Then, in this process:
 * - warm: MessageStore.open right away (the log is in the page cache, as after a process crash);
 * - cold: the same recovery again (abort marker back, checkpoint deleted) after the files were
 *   fsync'ed and dropped from the page cache (`dd iflag=nocache count=0`, i.e.
 *   posix_fadvise(DONTNEED), per file): every byte comes from the disk, as after a machine crash;
 * - rebuild: consumequeue/ deleted, then open (full scan that re-creates every entry).
 * Each open scans the whole log and re-dispatches every record.
 */

export interface RecoveryRun {
  readonly ms: number;
  readonly bytesScanned: number;
  readonly secondsPerGB: number;
  readonly bytesPerSec: number;
  readonly report: RecoveryReport;
}

export interface RecoveryResult {
  readonly logBytes: number;
  readonly warm: RecoveryRun;
  readonly cold: RecoveryRun | null;
  readonly rebuild: RecoveryRun;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/** Syncs and evicts every file of the store from the page cache; false if dd cannot. */
function dropFromPageCache(dir: string): boolean {
  try {
    for (const path of filesUnder(dir)) {
      const fd = openSync(path, 'r+');
      fsyncSync(fd);
      closeSync(fd);
      execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
    }
    return true;
  } catch (err) {
    progress(`recovery: could not drop the page cache (${(err as Error).message}); cold run skipped`);
    return false;
  }
}

async function timedOpen(dir: string, label: string): Promise<RecoveryRun> {
  const started = performance.now();
  const store = await MessageStore.open({ dir });
  const ms = performance.now() - started;
  const report = store.recovery;
  await store.close();
  const bytesScanned = report.logEnd - report.scannedFrom;
  const run: RecoveryRun = {
    ms,
    bytesScanned,
    secondsPerGB: ms / 1000 / (bytesScanned / 1e9),
    bytesPerSec: bytesScanned / (ms / 1000),
    report,
  };
  progress(
    `recovery ${label}: ${(ms / 1000).toFixed(2)} s for ${(bytesScanned / 1e9).toFixed(3)} GB, ` +
      `${report.recordsScanned} records from ${report.scannedFrom} (clean ${report.cleanShutdown}, ` +
      `rebuilt ${report.rebuiltConsumeQueues}, corruption ${report.corruption?.reason ?? 'none'}, ` +
      `cut ${report.bytesCut} B / ${report.consumeQueueEntriesCut} entries)`,
  );
  return run;
}

function removeCheckpoint(dir: string): void {
  rmSync(join(dir, 'checkpoint'), { force: true });
}

export async function measureRecovery(o: {
  targetBytes: number;
  bodyBytes: number;
  maxOutstandingBytes: number;
}): Promise<RecoveryResult> {
  const dir = freshDir('recovery');
  try {
    const child = spawnChild('recovery-writer', [dir, String(o.targetBytes), String(o.bodyBytes), String(o.maxOutstandingBytes)]);
    let written: { recordBytes: number };
    try {
      written = await firstJsonLine<{ recordBytes: number }>(child);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
    progress(`recovery: writer killed after ${(written.recordBytes / 1e9).toFixed(3)} GB acknowledged`);
    if (!existsSync(join(dir, 'abort'))) throw new Error('the writer left no abort marker');
    removeCheckpoint(dir);
    const warm = await timedOpen(dir, 'warm');

    let cold: RecoveryRun | null = null;
    removeCheckpoint(dir);
    createAbortMarker(dir);
    if (dropFromPageCache(dir)) cold = await timedOpen(dir, 'cold');

    rmSync(join(dir, 'consumequeue'), { recursive: true, force: true });
    const rebuild = await timedOpen(dir, 'rebuild');
    if (!rebuild.report.rebuiltConsumeQueues) throw new Error('the consume queues were not rebuilt');
    return { logBytes: warm.report.logEnd, warm, cold, rebuild };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
