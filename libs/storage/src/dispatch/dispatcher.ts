import { decodeDispatchInfo, readPrefix, type DispatchInfo } from '../codec/record-codec';
import { PREFIX_BYTES } from '../codec/record-layout';
import { tagHashOf } from '../consume-queue/cq-entry';
import type { ConsumeQueueStore } from '../consume-queue/consume-queue-store';

/** Someone else who follows every stored message in log order (index, replication, metrics). */
export type DispatchListener = (info: DispatchInfo) => void;

/**
 * Turns commit-log records into consume-queue entries, in log order. It is fed either the bytes the
 * writer just wrote (live) or records read back from the log (recovery and rebuild); both go
 * through `dispatchRecord`, so the derived data is the same either way.
 */
export class Dispatcher {
  private readonly listeners: DispatchListener[] = [];
  /** PhysicalOffset after the last record dispatched. */
  dispatchedEnd: number;

  constructor(
    private readonly queues: ConsumeQueueStore,
    start: number,
  ) {
    this.dispatchedEnd = start;
  }

  addListener(listener: DispatchListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** One record, already checked. */
  dispatchRecord(buf: Buffer, at: number): void {
    const info = decodeDispatchInfo(buf, at);
    this.queues.put(info.topic, info.queueId, info.queueOffset, info.physicalOffset, info.totalBytes, tagHashOf(info.tag));
    this.dispatchedEnd = info.physicalOffset + info.totalBytes;
    for (const listener of this.listeners) listener(info);
  }

  /** A run of freshly written whole records (and fillers) starting at PhysicalOffset `position`. */
  dispatchWritten(bytes: Buffer, position: number): void {
    let at = 0;
    while (at + PREFIX_BYTES <= bytes.length) {
      const prefix = readPrefix(bytes, at);
      if (prefix.kind === 'message') this.dispatchRecord(bytes, at);
      if (prefix.kind !== 'message' && prefix.kind !== 'filler') break;
      if (prefix.kind === 'filler') {
        this.dispatchedEnd = position + at + prefix.totalBytes;
        break; // a filler is the last thing written into its segment
      }
      at += prefix.totalBytes;
    }
  }

  /** Writes the entries of the batch just dispatched. */
  commit(): void {
    this.queues.commitTouched();
  }
}
