/**
 * PopConsumption: the broker's POP state for clustering consumption (rocketmq-v2-protocol.md
 * §3.9–3.11, §5.2), behind the calls the ReceiveMessage, AckMessage and
 * ChangeInvisibleDuration handlers make.
 *
 * State per (group, topic, queue): a QueuePosition (ConsumerOffsets) and the in-flight messages
 * (InflightStore). A pop hands out due redeliveries first (delivery attempt + 1), then new
 * messages from the next offset; each delivered message gets a fresh popId and receipt handle
 * and stays invisible to the whole group until its deadline. An ack deletes the in-flight record
 * and moves the committed offset over the contiguous acked prefix. Unlike RocketMQ, unacked
 * messages are redelivered from their own queue position, not re-published to a retry topic.
 * A message due again after maxDeliveryAttempts deliveries is not delivered: the pop copies it
 * to the group's dead-letter topic (dead-letter-queue.ts) and settles it like an ack, so a
 * message is delivered at most maxDeliveryAttempts times (RocketMQ's PopMessageResultFilter).
 * FIFO groups (§5.5) pop a queue in order: nothing leaves it while one of its messages is in
 * flight and invisible; once they are all due again they are redelivered first, in queue order,
 * and new messages follow only when none is left in flight. Order therefore holds per queue, and
 * so per message group (the producer side routes a message group to one queue).
 *
 * Durability: every call resolves only after its change is durable under `stateDurability` (the
 * broker's flush mode: fdatasync-ed under SYNC, written under ASYNC), the in-flight change
 * (one batch record per pop, inflight-store.ts) and the position in one table record, so a crash
 * leaves both or neither. Calls on one queue of one group run one at a time; acks that arrive
 * while one runs are committed together (one record). After a restart: acked messages stay
 * acked, in-flight ones keep their deadlines.
 */
import type { MessageStore, MetadataStore, StoredMessage } from '@apogee/storage';
import { ApogeeError } from '@apogee/protocol';
import { systemClock, type Clock } from '@apogee/runtime';
import { KeyedBatcher } from '../metadata/keyed-batcher';
import { KeyedSerializer } from '../metadata/keyed-serializer';
import { ConsumerOffsets, type QueuePosition } from './consumer-offsets';
import { InflightStore, type InflightMessage } from './inflight-store';
import { openPopState } from './pop-state';
import { dueRedeliveries, readQueueMessage, scanNewMessages } from './queue-scan';
import { queueKey, type QueueRef } from './queue-ref';
import { decodeReceiptHandle, encodeReceiptHandle, newPopId, type ReceiptHandle } from './receipt-handle';
import type { DeadLetterSink } from './dead-letter-queue';
import type { MessageFilter } from './message-filter';

/** Longest invisible duration (RocketMQ: 12 h). */
export const MAX_INVISIBLE_DURATION_MS = 12 * 3_600_000;
export const DEFAULT_MAX_INFLIGHT_PER_QUEUE = 2_000;

export interface PopConsumptionOptions {
  /** Written into receipt handles; handles of other brokers are rejected. */
  readonly brokerName: string;
  readonly clock?: Clock;
  /** In-flight messages per (group, topic, queue) before new messages stop being popped. */
  readonly maxInflightPerQueue?: number;
  /** Where messages go that used up their delivery attempts, or that a consumer forwards. */
  readonly deadLetters: DeadLetterSink;
  /**
   * When a pop, ack or invisibility change resolves: 'sync' (default) once fdatasync-ed; 'written'
   * once written to the state table's journal, synced within its deferredSyncMs — the broker's
   * choice under ASYNC flush, where the messages themselves are acknowledged the same way.
   */
  readonly stateDurability?: 'sync' | 'written';
}

export interface PopRequest extends QueueRef {
  readonly maxCount: number;
  readonly invisibleDurationMs: number;
  readonly filter: MessageFilter;
  /** The group's maxDeliveryAttempts: a message delivered this often goes to the DLQ when due again. */
  readonly maxDeliveryAttempts: number;
  /** A FIFO group: nothing new leaves the queue while any of its messages is in flight. */
  readonly fifo?: boolean;
}

export interface PoppedMessage {
  readonly message: StoredMessage;
  readonly deliveryAttempt: number;
  readonly invisibleUntilMs: number;
  readonly receiptHandle: string;
}

export interface HandleRequest {
  readonly group: string;
  readonly topic: string;
  readonly receiptHandle: string;
}

export interface AckResult {
  readonly queueOffset: number;
  /** The queue's committed offset after the ack. */
  readonly committedOffset: number;
}

interface PendingAck {
  readonly ref: QueueRef;
  readonly handle: ReceiptHandle;
}

export class PopConsumption {
  private readonly serializer = new KeyedSerializer();
  private readonly acks = new KeyedBatcher<PendingAck, AckResult>(this.serializer, (_key, items) => this.commitAcks(items));
  private readonly clock: Clock;
  private readonly maxInflightPerQueue: number;

  constructor(
    private readonly store: MessageStore,
    readonly offsets: ConsumerOffsets,
    readonly inflight: InflightStore,
    private readonly options: PopConsumptionOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxInflightPerQueue = options.maxInflightPerQueue ?? DEFAULT_MAX_INFLIGHT_PER_QUEUE;
  }

  /** Opens the consume-state table in `meta` (pop-state.ts) and repairs positions older brokers left behind their records. */
  static async open(meta: MetadataStore, store: MessageStore, options: PopConsumptionOptions): Promise<PopConsumption> {
    const table = await openPopState(meta);
    const offsets = new ConsumerOffsets(table);
    const inflight = new InflightStore(table.entries());
    const consumption = new PopConsumption(store, offsets, inflight, options);
    for (const ref of inflight.queues()) await consumption.commit(ref, [], [], offsets.get(ref)?.nextOffset ?? 0);
    return consumption;
  }

  /** Pops up to `maxCount` messages of one queue for the group: due redeliveries, then new ones. */
  async pop(request: PopRequest): Promise<PoppedMessage[]> {
    checkInvisibleDuration(request.invisibleDurationMs);
    const ref: QueueRef = { group: request.group, topic: request.topic, queueId: request.queueId };
    return this.serializer.run(queueKey(ref), () => this.popQueue(ref, request));
  }

  /** Acks the delivery the handle names; resolves with the queue's committed offset after it. */
  async ack(request: HandleRequest): Promise<AckResult> {
    const handle = this.checkHandle(request);
    const ref = refOf(request.group, handle);
    return this.acks.add(queueKey(ref), { ref, handle });
  }

  /**
   * Acks of one queue that arrived together (KeyedBatcher): one removal of their in-flight
   * records and one position write for all, each answered as if acked alone in arrival order.
   */
  private async commitAcks(items: readonly PendingAck[]): Promise<Array<AckResult | Error>> {
    const ref = items[0].ref;
    const offsets = new Set<number>();
    const checked = items.map(({ handle }): number | Error => {
      try {
        if (offsets.has(handle.queueOffset)) throw staleHandle(ref, handle); // acked just before in this batch
        this.currentRecord(ref, handle);
        offsets.add(handle.queueOffset);
        return handle.queueOffset;
      } catch (err) {
        return err as Error;
      }
    });
    if (offsets.size === 0) return checked as Error[];
    const { committedOffset } = await this.commit(ref, [...offsets], [], this.nextOffset(ref));
    return checked.map((c) => (c instanceof Error ? c : { queueOffset: c, committedOffset }));
  }

  /** Makes the message visible again at now + `invisibleDurationMs`; the old handle turns stale. */
  async changeInvisibleDuration(
    request: HandleRequest & { readonly invisibleDurationMs: number },
  ): Promise<{ receiptHandle: string; invisibleUntilMs: number }> {
    checkInvisibleDuration(request.invisibleDurationMs, 0);
    const handle = this.checkHandle(request);
    const ref = refOf(request.group, handle);
    return this.serializer.run(queueKey(ref), async () => {
      const record = this.currentRecord(ref, handle);
      const changed = { ...record, popId: this.inflight.freshPopId(ref, newPopId), invisibleUntilMs: this.clock.now() + request.invisibleDurationMs };
      await this.commit(ref, [], [changed], this.nextOffset(ref));
      return { receiptHandle: this.handleFor(ref, changed), invisibleUntilMs: changed.invisibleUntilMs };
    });
  }

  /**
   * ForwardMessageToDeadLetterQueue: copies the delivery the handle names to the group's DLQ and
   * settles it like an ack; resolves with the queue's committed offset after it.
   */
  async forwardToDeadLetter(request: HandleRequest): Promise<{ queueOffset: number; committedOffset: number }> {
    const handle = this.checkHandle(request);
    const ref = refOf(request.group, handle);
    return this.serializer.run(queueKey(ref), async () => {
      const record = this.currentRecord(ref, handle);
      const message = readQueueMessage(this.store, ref, record.queueOffset);
      if (message !== undefined) await this.options.deadLetters.deadLetter(ref.group, message, record.deliveryAttempt);
      const position = await this.commit(ref, [handle.queueOffset], [], this.nextOffset(ref));
      return { queueOffset: handle.queueOffset, committedOffset: position.committedOffset };
    });
  }

  /**
   * Sets the group's position in a queue to `offset` (UpdateOffset of pull consumers): committed
   * and next offset both become `offset`, so a later pop also resumes there. Refused
   * (INFLIGHT_MESSAGES_PENDING) while the group has POP messages in flight in the queue: they must
   * be acked or dead-lettered first. Range checks are the caller's. Resolves once durable.
   */
  commitOffset(ref: QueueRef, offset: number): Promise<QueuePosition> {
    return this.serializer.run(queueKey(ref), async () => {
      const inflight = this.inflight.count(ref);
      if (inflight > 0) {
        throw new ApogeeError(
          'INFLIGHT_MESSAGES_PENDING',
          `Group "${ref.group}" has ${inflight} POP message(s) in flight in ${ref.topic}/${ref.queueId}; ack them before committing a pull offset`,
        );
      }
      const position = { committedOffset: offset, nextOffset: offset };
      await this.offsets.set(ref, position);
      return position;
    });
  }

  /** The group's position in a queue (undefined before its first pop there). */
  position(ref: QueueRef): QueuePosition | undefined {
    return this.offsets.get(ref);
  }

  private async popQueue(ref: QueueRef, request: PopRequest): Promise<PoppedMessage[]> {
    const nowMs = this.clock.now();
    const inflight = this.inflight.list(ref);
    if (request.fifo && isHeldBack(inflight, nowMs)) return [];
    const want = Math.max(0, Math.floor(request.maxCount));
    const redelivery = dueRedeliveries(this.store, ref, inflight, { nowMs, want, ...request });
    for (const { record, message } of redelivery.exhausted) {
      await this.options.deadLetters.deadLetter(ref.group, message, record.deliveryAttempt);
    }
    const settled = [...redelivery.gone, ...redelivery.exhausted.map(({ record }) => record.queueOffset)];
    const stillInflight = inflight.length - settled.length;
    const room = this.maxInflightPerQueue - stillInflight;
    // FIFO: new messages only once every earlier one is acked or dead-lettered
    const wantNew = request.fifo && stillInflight > 0 ? 0 : Math.min(want - redelivery.due.length, room);
    const fresh = scanNewMessages(this.store, ref, this.nextOffset(ref), Math.max(0, wantNew), request.filter);
    const invisibleUntilMs = nowMs + request.invisibleDurationMs;
    const popId = this.inflight.freshPopId(ref, newPopId);
    const delivered = [
      ...redelivery.due.map(({ record, message }) => ({ message, deliveryAttempt: record.deliveryAttempt + 1 })),
      ...fresh.messages.map((message) => ({ message, deliveryAttempt: 1 })),
    ].map(({ message, deliveryAttempt }) => ({
      message,
      record: { queueOffset: message.queueOffset, popId, deliveryAttempt, invisibleUntilMs },
    }));
    await this.commit(ref, settled, delivered.map((d) => d.record), fresh.nextOffset);
    return delivered.map(({ message, record }) => ({
      message,
      deliveryAttempt: record.deliveryAttempt,
      invisibleUntilMs,
      receiptHandle: this.handleFor(ref, record),
    }));
  }

  /** Where new messages are read from: the stored next offset, or the start for a new group. */
  nextOffset(ref: QueueRef): number {
    const stored = this.offsets.get(ref);
    if (stored !== undefined) return stored.nextOffset;
    // RocketMQ's pop init offset: a queue still starting at 0 is read from its start, else from its end.
    const { min, max } = this.store.queueRange(ref.topic, ref.queueId);
    return min === 0 ? 0 : max;
  }

  /**
   * Takes `removed` out of flight, puts `added` in, and stores the position that follows with next
   * at least `next` (committed = the lowest offset still in flight): one durable table record.
   */
  private commit(ref: QueueRef, removed: readonly number[], added: readonly InflightMessage[], next: number): Promise<QueuePosition> {
    return this.commitWith(ref, removed, added, (bounds) => {
      const nextOffset = Math.max(next, bounds === undefined ? next : bounds.highest + 1);
      return { committedOffset: Math.min(bounds?.lowest ?? nextOffset, nextOffset), nextOffset };
    });
  }

  private async commitWith(
    ref: QueueRef,
    removed: readonly number[],
    added: readonly InflightMessage[],
    positionFor: (bounds: { lowest: number; highest: number } | undefined) => QueuePosition,
  ): Promise<QueuePosition> {
    const plan = this.inflight.plan(ref, removed, added);
    const position = positionFor(plan.bounds);
    const positionEntry = this.offsets.positionEntry(ref, position);
    await this.offsets.table.update(
      { set: positionEntry === undefined ? plan.set : [...plan.set, positionEntry], delete: plan.delete },
      { durability: this.options.stateDurability ?? 'sync' },
    );
    plan.apply();
    return position;
  }

  private checkHandle(request: HandleRequest): ReceiptHandle {
    const handle = decodeReceiptHandle(request.receiptHandle);
    if (handle.brokerName !== this.options.brokerName) {
      throw new ApogeeError('INVALID_RECEIPT_HANDLE', `The receipt handle belongs to broker "${handle.brokerName}"`);
    }
    if (handle.topic !== request.topic) {
      throw new ApogeeError('INVALID_RECEIPT_HANDLE', `The receipt handle is for topic "${handle.topic}", not "${request.topic}"`);
    }
    if (handle.invisibleUntilMs <= this.clock.now()) {
      throw new ApogeeError(
        'RECEIPT_HANDLE_EXPIRED',
        `The receipt handle expired at ${new Date(handle.invisibleUntilMs).toISOString()}; receive the message again`,
      );
    }
    return handle;
  }

  private currentRecord(ref: QueueRef, handle: ReceiptHandle): InflightMessage {
    const record = this.inflight.get(ref, handle.queueOffset);
    if (record === undefined || record.popId !== handle.popId) throw staleHandle(ref, handle);
    return record;
  }

  private handleFor(ref: QueueRef, record: InflightMessage): string {
    return encodeReceiptHandle({ brokerName: this.options.brokerName, topic: ref.topic, queueId: ref.queueId, ...record });
  }

  /**
   * Backtracking (BrokerAdmin.ResetOffset): sets the group's position in a queue to `offset`,
   * committed = next = offset, and drops its in-flight messages there, whose receipt handles turn
   * stale. Unlike commitOffset it does not wait for them: a reset means "consume again from here".
   * Range checks are the caller's. Resolves with the position before (undefined if the group never
   * consumed the queue) once the new one is durable (with the dropped records, in one record).
   */
  resetPosition(ref: QueueRef, offset: number): Promise<{ previous: QueuePosition | undefined; droppedInflight: number }> {
    return this.serializer.run(queueKey(ref), async () => {
      const previous = this.offsets.get(ref);
      const dropped = this.inflight.list(ref).map((m) => m.queueOffset);
      await this.commitWith(ref, dropped, [], () => ({ committedOffset: offset, nextOffset: offset }));
      return { previous, droppedInflight: dropped.length };
    });
  }
}

/** A FIFO queue is held back while a message of it is in flight and not yet due again. */
export function isHeldBack(inflight: Iterable<InflightMessage>, nowMs: number): boolean {
  for (const m of inflight) if (m.invisibleUntilMs > nowMs) return true;
  return false;
}

function staleHandle(ref: QueueRef, handle: ReceiptHandle): ApogeeError {
  return new ApogeeError(
    'RECEIPT_HANDLE_STALE',
    `The receipt handle of ${ref.topic}/${ref.queueId}@${handle.queueOffset} was superseded for group "${ref.group}"`,
  );
}

function refOf(group: string, handle: ReceiptHandle): QueueRef {
  return { group, topic: handle.topic, queueId: handle.queueId };
}

/** ReceiveMessage takes at least 1 ms here (the handler enforces RocketMQ's 10 s floor); a change may use 0. */
function checkInvisibleDuration(ms: number, minMs = 1): void {
  if (!Number.isSafeInteger(ms) || ms < minMs || ms > MAX_INVISIBLE_DURATION_MS) {
    throw new ApogeeError(
      'ILLEGAL_INVISIBLE_TIME',
      `Invisible duration ${ms} ms is outside [${minMs}, ${MAX_INVISIBLE_DURATION_MS}] ms`,
    );
  }
}
