/**
 * Checkpoint file (`<store>/checkpoint`): where recovery may start.
 *
 * Written by the message store every `checkpointIntervalMs` and at a clean close, always by
 * durable replace (checkpoint.tmp, fsync, rename, fsync the directory); read once at open.
 *
 * | offset | width | field            | meaning                                                  |
 * |-------:|------:|------------------|----------------------------------------------------------|
 * |      0 |     4 | magic            | 0x41504350 ("APCP")                                      |
 * |      4 |     4 | version          | 1                                                        |
 * |      8 |     8 | logSyncedOffset  | every commit-log byte before it was fdatasync'ed         |
 * |     16 |     8 | dispatchedOffset | every record before it has its consume-queue entry synced |
 * |     24 |     8 | writtenAtMs      | wall-clock time of the write                             |
 * |     32 |     4 | crc              | CRC-32/IEEE of bytes [0, 32)                             |
 *
 * Both offsets are record boundaries. Invariant: what they claim was synced before the file was
 * replaced. After a crash the file is either the old or the new version, both true; a missing
 * or corrupt checkpoint makes recovery scan the whole log.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { readInt64, writeInt64 } from '../codec/int64';
import { nodeMetaFileSystem, replaceFileDurably } from '../meta/meta-fs';

const MAGIC = 0x41504350;
const VERSION = 1;
const AT_LOG_SYNCED = 8;
const AT_DISPATCHED = 16;
const AT_WRITTEN_AT = 24;
const AT_CRC = 32;
const FILE_BYTES = 36;
const FILE_NAME = 'checkpoint';

export interface Checkpoint {
  readonly logSyncedOffset: number;
  readonly dispatchedOffset: number;
  readonly writtenAtMs: number;
}

export function encodeCheckpoint(c: Checkpoint): Buffer {
  const buf = Buffer.alloc(FILE_BYTES);
  buf.writeUInt32BE(MAGIC, 0);
  buf.writeUInt32BE(VERSION, 4);
  writeInt64(buf, c.logSyncedOffset, AT_LOG_SYNCED);
  writeInt64(buf, c.dispatchedOffset, AT_DISPATCHED);
  writeInt64(buf, c.writtenAtMs, AT_WRITTEN_AT);
  buf.writeUInt32BE(crc32(buf.subarray(0, AT_CRC)), AT_CRC);
  return buf;
}

export function decodeCheckpoint(buf: Buffer): Checkpoint | null {
  if (buf.length !== FILE_BYTES || buf.readUInt32BE(0) !== MAGIC || buf.readUInt32BE(4) !== VERSION) return null;
  if (crc32(buf.subarray(0, AT_CRC)) !== buf.readUInt32BE(AT_CRC)) return null;
  return {
    logSyncedOffset: readInt64(buf, AT_LOG_SYNCED),
    dispatchedOffset: readInt64(buf, AT_DISPATCHED),
    writtenAtMs: readInt64(buf, AT_WRITTEN_AT),
  };
}

/** The checkpoint in `dir`: null when there is none or it is unreadable (recovery scans everything). */
export function readCheckpoint(dir: string): Checkpoint | null {
  const path = join(dir, FILE_NAME);
  return existsSync(path) ? decodeCheckpoint(readFileSync(path)) : null;
}

export function writeCheckpoint(dir: string, c: Checkpoint): Promise<void> {
  return replaceFileDurably(nodeMetaFileSystem, join(dir, FILE_NAME), encodeCheckpoint(c));
}
