import { decodeDispatchInfo, type DispatchInfo } from '../codec/record-codec';
import { tagHashOf } from '../consume-queue/cq-entry';
import type { ConsumeQueue } from '../consume-queue/consume-queue';
import type { ConsumeQueueStore } from '../consume-queue/consume-queue-store';

/** Someone else who follows every stored message in log order (index, replication, metrics). */
export type DispatchListener = (info: DispatchInfo) => void;

/** A record appended but not yet written: dispatched once the writer says its bytes are out. */
export interface AppendedRecord extends DispatchInfo {
  readonly tagHash: number;
}

/** Compact the pending FIFO once this many dispatched records sit at its front. */
const COMPACT_AFTER = 4096;

/**
 * Turns commit-log records into consume-queue entries, in log order, from two sources with the
 * same result: records read back from the log (recovery and rebuild: `dispatchRecord`) and
 * records just appended, once written (live: `enqueue` + `dispatchUpTo`, no re-parsing).
 */
export class Dispatcher {
  private readonly listeners: DispatchListener[] = [];
  private pendingRecords: AppendedRecord[] = [];
  private pendingQueues: ConsumeQueue[] = [];
  private head = 0;
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

  /** One record read back from the log, already checked. */
  dispatchRecord(buf: Buffer, at: number): void {
    const info = decodeDispatchInfo(buf, at);
    this.put(this.queues.getOrCreate(info.topic, info.queueId), info, tagHashOf(info.tag));
  }

  /** A record just appended to `queue`, in log order. */
  enqueue(record: AppendedRecord, queue: ConsumeQueue): void {
    this.pendingRecords.push(record);
    this.pendingQueues.push(queue);
  }

  /** Dispatches every enqueued record that ends at or before `writtenEnd`, then writes the entries. */
  dispatchUpTo(writtenEnd: number): void {
    const records = this.pendingRecords;
    let i = this.head;
    while (i < records.length && records[i].physicalOffset + records[i].totalBytes <= writtenEnd) {
      this.put(this.pendingQueues[i], records[i], records[i].tagHash);
      i++;
    }
    if (i === records.length) {
      this.pendingRecords = [];
      this.pendingQueues = [];
      this.head = 0;
    } else if (i > COMPACT_AFTER) {
      this.pendingRecords = records.slice(i);
      this.pendingQueues = this.pendingQueues.slice(i);
      this.head = 0;
    } else {
      this.head = i;
    }
    this.commit();
  }

  /** Forgets enqueued records (their write failed: they must never be dispatched). */
  dropPending(): void {
    this.pendingRecords = [];
    this.pendingQueues = [];
    this.head = 0;
  }

  /** The log was cut back to `end` (drained first: nothing is pending); dispatching resumes there. */
  resetTo(end: number): void {
    this.dropPending();
    this.dispatchedEnd = Math.min(this.dispatchedEnd, end);
  }

  /** Writes the entries of the batch just dispatched. */
  commit(): void {
    this.queues.commitTouched();
  }

  private put(queue: ConsumeQueue, info: DispatchInfo, tagHash: number): void {
    this.queues.putInto(queue, info.queueOffset, info.physicalOffset, info.totalBytes, tagHash);
    this.dispatchedEnd = info.physicalOffset + info.totalBytes;
    for (const listener of this.listeners) listener(info);
  }
}
