import type { PhysicalOffset } from '../codec/record-codec';
import { fsyncDirSync } from '../io/fsync-dir';
import type { Segment } from './segment';

/** What a cut removed: bytes past the new end, and whole files after the one holding it. */
export interface LogCut {
  readonly bytesCut: number;
  readonly segmentsDeleted: number;
}

/**
 * Cuts the log back to `end`, durably, the one way both recovery (a torn or corrupt tail) and an
 * online truncation (a failed-over master's extra tail) do it: the segment holding `end` is
 * truncated there and fdatasync'ed first, then every later segment is deleted (removed from
 * `segments`) and the directory fsynced. A crash part-way leaves the log ending at `end` in the
 * cut segment and later files that the next open's scan cuts as "segment ends without a filler".
 */
export function cutLogAt(dir: string, segments: Segment[], segmentBytes: number, end: PhysicalOffset): LogCut {
  const at = segments.findIndex((s) => end >= s.base && end < s.base + segmentBytes);
  const keep = at < 0 ? segments.length : at + 1;
  let bytesCut = 0;
  if (at >= 0) {
    const segment = segments[at];
    bytesCut += Math.max(0, segment.fileBytes() - (end - segment.base));
    segment.truncate(end - segment.base);
    segment.sync();
  }
  let segmentsDeleted = 0;
  for (const s of segments.splice(keep)) {
    bytesCut += s.fileBytes();
    s.delete();
    segmentsDeleted++;
  }
  fsyncDirSync(dir);
  return { bytesCut, segmentsDeleted };
}
