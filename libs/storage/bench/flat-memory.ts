import { rmSync, statfsSync } from 'node:fs';
import { exited, firstJsonLine, freshDir, progress, spawnChild } from './common';
import { GiB } from './report';
import type { FlatMemoryReport } from './flat-memory-writer';

/**
 * 6. Flat memory: a child process appends `totalBytes` ASYNC and samples process.memoryUsage().rss
 * every second; the figure is the largest sample. The data stays on disk until the end unless the
 * file system lacks room for it (or BENCH_FLAT_MEMORY_RETENTION=1): then retention deletes old
 * segments as the child goes.
 */

/** Whether the child must delete data as it goes. */
export function needsRetention(dir: string, totalBytes: number): boolean {
  if (process.env.BENCH_FLAT_MEMORY_RETENTION === '1') return true;
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize < totalBytes * 1.2 + 2 * GiB;
}

export async function measureFlatMemory(o: {
  totalBytes: number;
  bodyBytes: number;
  maxOutstandingBytes: number;
}): Promise<FlatMemoryReport & { retention: boolean }> {
  const dir = freshDir('flat-memory');
  const retention = needsRetention(dir, o.totalBytes);
  try {
    const args = [dir, o.totalBytes, o.bodyBytes, o.maxOutstandingBytes, retention ? 1 : 0].map(String);
    const child = spawnChild('flat-memory-writer', args);
    try {
      const report = await firstJsonLine<FlatMemoryReport>(child);
      const samples = report.rssSamplesMB;
      progress(
        `flat memory: ${(report.recordBytes / 1e9).toFixed(2)} GB in ${report.seconds.toFixed(1)} s, ` +
          `RSS max ${report.maxRssMB.toFixed(0)} MB (kernel peak ${report.peakRssMB.toFixed(0)} MB), ` +
          `${report.segmentsDeleted} segments deleted; RSS samples: ${samples.join(' ')}`,
      );
      return { ...report, retention };
    } finally {
      await exited(child);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
