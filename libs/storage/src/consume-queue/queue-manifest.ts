/**
 * Consume-queue manifest (`<store>/consumequeue.manifest`): which (topic, queueId) consume queues
 * exist, so that one deleted queue folder is noticed and rebuilt at the next open.
 *
 * Written by the message store at a checkpoint when the set of queues changed, by durable replace
 * (tmp, fsync, rename, fsync the directory); read once at open. UTF-8 text:
 *
 *   apogee-consume-queues 1          header: format name and version
 *   <topic> <queueId>                one line per queue (topic names hold no spaces)
 *   crc <8 hex digits>               CRC-32/IEEE of every byte before this line
 *
 * A missing or corrupt manifest only means no queue is known to be missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { nodeMetaFileSystem, replaceFileDurably } from '../meta/meta-fs';

const FILE_NAME = 'consumequeue.manifest';
const HEADER = 'apogee-consume-queues 1\n';
const CRC_PREFIX = 'crc ';
const HEX_DIGITS = 8;

export interface QueueName {
  readonly topic: string;
  readonly queueId: number;
}

export function encodeManifest(queues: readonly QueueName[]): string {
  const body = HEADER + queues.map((q) => `${q.topic} ${q.queueId}\n`).join('');
  return `${body}${CRC_PREFIX}${crc32(body).toString(16).padStart(HEX_DIGITS, '0')}\n`;
}

export function decodeManifest(text: string): QueueName[] | null {
  const crcAt = text.lastIndexOf(CRC_PREFIX);
  if (!text.startsWith(HEADER) || crcAt < 0) return null;
  const body = text.slice(0, crcAt);
  if (crc32(body).toString(16).padStart(HEX_DIGITS, '0') !== text.slice(crcAt + CRC_PREFIX.length).trim()) return null;
  return body
    .slice(HEADER.length)
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [topic, id] = line.split(' ');
      return { topic, queueId: Number(id) };
    });
}

export function readManifest(dir: string): QueueName[] | null {
  const path = join(dir, FILE_NAME);
  return existsSync(path) ? decodeManifest(readFileSync(path, 'utf8')) : null;
}

export function writeManifest(dir: string, queues: readonly QueueName[]): Promise<void> {
  return replaceFileDurably(nodeMetaFileSystem, join(dir, FILE_NAME), Buffer.from(encodeManifest(queues)));
}
