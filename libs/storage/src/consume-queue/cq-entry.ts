/**
 * Consume-queue entry layout (spec: docs/formats/consume-queue.md).
 *
 * One file set per (topic, queueId) under `consumequeue/<topic>/<queueId>/`; each file holds
 * `entriesPerSegment` fixed-size entries and is named by the 20-digit QueueOffset of its first
 * entry. Entry n of the queue sits at byte (n - base) * ENTRY_BYTES of its file. Written by the
 * dispatcher, read by consumers. Derived data: rebuilt from the commit log after a crash.
 *
 * | offset | width | field          | meaning                                              |
 * |-------:|------:|----------------|------------------------------------------------------|
 * |      0 |     8 | physicalOffset | PhysicalOffset of the message's commit-log record    |
 * |      8 |     4 | totalBytes     | size of that record; 0 marks a hole (no message)     |
 * |     12 |     8 | tagHash        | Java String.hashCode of the tag, sign-extended       |
 */
import { readInt64, writeInt64 } from '../codec/int64';

export const ENTRY_BYTES = 20;
const AT_PHYSICAL_OFFSET = 0;
const AT_TOTAL_BYTES = 8;
const AT_TAG_HASH = 12;

export interface CqEntry {
  readonly queueOffset: number;
  readonly physicalOffset: number;
  readonly totalBytes: number;
  readonly tagHash: number;
}

export function writeEntry(buf: Buffer, at: number, physicalOffset: number, totalBytes: number, tagHash: number): void {
  writeInt64(buf, physicalOffset, at + AT_PHYSICAL_OFFSET);
  buf.writeInt32BE(totalBytes, at + AT_TOTAL_BYTES);
  writeInt64(buf, tagHash, at + AT_TAG_HASH);
}

export function readEntry(buf: Buffer, at: number, queueOffset: number): CqEntry {
  return {
    queueOffset,
    physicalOffset: readInt64(buf, at + AT_PHYSICAL_OFFSET),
    totalBytes: buf.readInt32BE(at + AT_TOTAL_BYTES),
    tagHash: readInt64(buf, at + AT_TAG_HASH),
  };
}

/** The tag hash RocketMQ stores: Java's String.hashCode (UTF-16 code units), 0 for no tag. */
export function tagHashOf(tag: string): number {
  let h = 0;
  for (let i = 0; i < tag.length; i++) h = (Math.imul(31, h) + tag.charCodeAt(i)) | 0;
  return h;
}
