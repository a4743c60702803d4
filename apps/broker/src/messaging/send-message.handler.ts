/**
 * SendMessage (doc §3.5, §4.2, §4.3): one or many messages of one topic, each checked
 * (message-validation.ts), its topic resolved (exists, or auto-created with the message's type;
 * type accepted; writable), its queue chosen here (queue-picker.ts), and appended to the
 * MessageStore with its id, keys, tag, user properties and born host/time.
 *
 * The answer has one SendResultEntry per request message, in order, each with its own status
 * (OK entries carry message_id, transaction_id and the queue offset); the top-level status is the
 * entries' code when they all agree, else MULTIPLE_RESULTS. Messages are independent: a bad one
 * does not stop the others (the client resends the request, and duplicates by message id are
 * expected by the protocol). Messages of different topics in one request are all refused with
 * MESSAGE_CORRUPTED.
 *
 * DELAY messages (doc §4.4), when the broker runs a timer (`delay`): the delivery timestamp must
 * be a valid time at most `maxDelayMs` ahead (else ILLEGAL_DELIVERY_TIME naming the limit). One
 * due in the future is appended to the timer's system topic (timer/timer-message.ts) and its entry
 * carries a recall handle (timer/recall-handle.ts) and, as offset, its place in that topic's
 * queue; one already due is stored in its topic at once. DELAY messages without a timer are
 * refused with UNSUPPORTED: storing them as normal messages would deliver them early.
 *
 * TRANSACTION messages (doc §4.6), when the broker runs a transaction store (`transactions`): a
 * half message is appended to the half topic (transaction/half-message.ts) and its open
 * transaction recorded (transaction/transaction-store.ts, durable) before the entry answers OK
 * with transaction_id (= the message id) and, as offset, its place in the half topic's queue.
 * Without a transaction store they are refused with UNSUPPORTED.
 *
 * FIFO messages of a topic that spans brokers (`fifo`, set when the broker knows nameservers) go
 * to their message group's owner broker (fifo-owner.ts): stored here in the owner queue when it
 * is ours, else forwarded to the owner in one SendMessage per owner (broker-forwarder.ts), whose
 * entries answer the client. A call forwarded by another broker is stored here, in the queue the
 * forwarder named, and never forwarded again.
 *
 * A broker that may not take writes now (`writeGate`: a slave, a standby, a master without its lease)
 * stores nothing: every entry gets the refusal (NOT_MASTER naming the master, MASTER_LEASE_EXPIRED:
 * v2 HA_NOT_AVAILABLE). The gate is asked again before answering: a master whose lease ended while
 * the messages were being stored answers the refusal instead of OK (fencing; the client sends again).
 *
 * SYNC replication (`replicated`, a master with replicationMode SYNC): the OK entries stored here
 * answer only once an in-sync slave confirmed the end of the request's last stored record
 * (replication/replica-set.ts waitReplicated); if none does, they answer its retriable failure
 * (NO_IN_SYNC_REPLICA → HA_NOT_AVAILABLE, REPLICA_CONFIRM_TIMEOUT → SLAVE_PERSISTENCE_TIMEOUT)
 * although the messages are stored: the client resends, duplicates by message id are expected.
 */
import { ApogeeError, okV2Status, v2StatusOf, type V2Status } from '@apogee/protocol';
import type { Clock } from '@apogee/runtime';
import type { MessageType, TopicConfig } from '@apogee/routing';
import type { AppendResult, MessageInput, MessageStore } from '@apogee/storage';
import type { TopicRegistry } from '../metadata/topic-registry';
import { assertMessageType } from '../metadata/topic-checks';
import { encodeRecallHandle } from '../timer/recall-handle';
import { delayedInputOf } from '../timer/timer-message';
import { halfInputOf } from '../transaction/half-message';
import type { TransactionStore } from '../transaction/transaction-store';
import { isForwardedCall } from './broker-forwarder';
import type { FifoRouter, ForwardDecision } from './fifo-router';
import { checkMessage, type CheckedMessage } from './message-validation';
import type { QueuePicker } from './queue-picker';
import type { V2CallContext } from './v2-unary';
import { millisOf, type WireMessage, type WireSendMessageRequest, type WireSendMessageResponse, type WireSendResultEntry } from './v2-wire';

/** Message types this broker can store today. */
const STORABLE_TYPES: ReadonlySet<MessageType> = new Set(['NORMAL', 'FIFO']);

export interface SendMessageDeps {
  readonly topics: TopicRegistry;
  readonly store: Pick<MessageStore, 'appendBatch'>;
  readonly queues: QueuePicker;
  readonly maxBodyBytes: number;
  readonly clock: Clock;
  /** Set when the broker runs a timer store: DELAY messages are accepted. */
  readonly delay?: DelayOptions;
  /** Set when the broker runs a transaction store: TRANSACTION messages are accepted. */
  readonly transactions?: Pick<TransactionStore, 'recordHalf'>;
  /** Set when the broker knows nameservers: FIFO message groups go to their owner broker (fifo-router.ts). */
  readonly fifo?: Pick<FifoRouter, 'decide' | 'forwardAll'>;
  /** Set on a slave: every message is refused with NOT_MASTER naming the master (replication/slave-writes.ts). */
  /** Why writes are refused now (ha/broker-role.ts), or undefined; absent: always accepted. */
  readonly writeGate?: WriteGate;
  /** Set on a SYNC-replicating master: resolves once a slave confirmed the log up to `end` (rejects: not confirmed). */
  readonly replicated?: (end: number) => Promise<void>;
}

export interface DelayOptions {
  /** How far ahead a delivery timestamp may be (config timerMaxDelayMs). */
  readonly maxDelayMs: number;
  /** Written into recall handles; RecallMessage refuses handles of other brokers. */
  readonly brokerName: string;
  /** Tells the timer store a timer record was stored (TimerStore.noteSent), so it need not read it back. */
  readonly noteSent?: (record: AppendResult, dueMs: number) => void;
}

/** A recall_handle on an entry (only for delayed messages waiting in the timer). */
type SendResultEntry = WireSendResultEntry & { recall_handle?: string };

type Failed = { readonly kind: 'failed'; readonly error: unknown };
type Accepted =
  | {
      readonly kind: 'accepted';
      readonly message: CheckedMessage;
      readonly topic: TopicConfig;
      readonly dueMs?: number;
      /** The owner queue of the message's group (fifo-owner.ts), when it is ours. */
      readonly ownerQueueId?: number;
    }
  /** A FIFO message for another broker: forwarded, not stored here. */
  | { readonly kind: 'remote'; readonly forward: ForwardDecision }
  | Failed;
type Outcome =
  | {
      readonly kind: 'ok';
      readonly offset: number;
      /** Where the stored record ends in the commit log (what SYNC replication waits for). */
      readonly end: number;
      readonly recallHandle?: string;
      readonly transactionId?: string;
    }
  /** The owner broker's entry for a forwarded message. */
  | { readonly kind: 'forwarded'; readonly entry: SendResultEntry }
  | Failed;

/** Whether the broker may take (and acknowledge) writes now. */
export interface WriteGate {
  writeRefusal(what: string): ApogeeError | undefined;
}

export function sendMessageHandler(deps: SendMessageDeps) {
  return async (request: WireSendMessageRequest, context?: V2CallContext): Promise<WireSendMessageResponse> => {
    const messages = request.messages ?? [];
    if (messages.length === 0) {
      throw new ApogeeError('MESSAGE_CORRUPTED', 'SendMessage carries no messages; send at least one');
    }
    const ids = messages.map((m) => m.system_properties?.message_id ?? '');
    const refused = deps.writeGate?.writeRefusal('SendMessage');
    if (refused !== undefined) return answer(ids, ids.map(() => ({ kind: 'failed', error: refused })));
    const topicNames = new Set(messages.map((m) => m.topic?.name ?? ''));
    if (topicNames.size > 1) {
      const error = new ApogeeError(
        'MESSAGE_CORRUPTED',
        `One SendMessage request must carry messages of one topic; this one names ${[...topicNames].map((t) => JSON.stringify(t)).join(', ')}`,
      );
      return answer(ids, ids.map(() => ({ kind: 'failed', error })));
    }
    const now = deps.clock.now();
    const checked = messages.map((wire): Checked | Failed => {
      try {
        const message = checkMessage(wire, deps.maxBodyBytes, now);
        const dueMs = message.messageType === 'DELAY' && deps.delay !== undefined ? deliveryTimeOf(wire, message, now, deps.delay) : undefined;
        return { kind: 'checked', message, dueMs };
      } catch (error) {
        return { kind: 'failed', error };
      }
    });
    const accepted = await withTopics(deps, checked);
    const placed = await placeFifo(deps.fifo, messages, accepted, isForwardedCall(context?.metadata));
    const [stored, forwarded] = await Promise.all([appendAll(deps, placed, now), forwardAll(deps.fifo, placed, context)]);
    const fenced = deps.writeGate?.writeRefusal('SendMessage');
    const outcome = (o: Outcome): Outcome => (fenced !== undefined && o.kind === 'ok' ? { kind: 'failed', error: fenced } : o);
    return answer(ids, placed.map((_, i) => forwarded.get(i) ?? outcome(stored[i])));
  };
}

type Checked = { readonly kind: 'checked'; readonly message: CheckedMessage; readonly dueMs?: number };

/** Each checked message with its topic, resolved once per message type of the request (one topic name per request). */
async function withTopics(deps: SendMessageDeps, checked: ReadonlyArray<Checked | Failed>): Promise<Accepted[]> {
  const topicOfType = new Map<MessageType, TopicConfig | Failed>();
  for (const c of checked) {
    if (c.kind !== 'checked' || topicOfType.has(c.message.messageType)) continue;
    const type = c.message.messageType;
    try {
      topicOfType.set(type, await topicFor(deps, c.message));
    } catch (error) {
      topicOfType.set(type, { kind: 'failed', error });
    }
  }
  return checked.map((c): Accepted => {
    if (c.kind === 'failed') return c;
    const topic = topicOfType.get(c.message.messageType) as TopicConfig | Failed;
    return 'kind' in topic ? topic : { kind: 'accepted', message: c.message, topic, dueMs: c.dueMs };
  });
}

/** Each FIFO message stored here (in its owner queue) or marked for its owner broker (fifo-router.ts). */
async function placeFifo(
  fifo: SendMessageDeps['fifo'],
  messages: readonly WireMessage[],
  accepted: readonly Accepted[],
  forwardedCall: boolean,
): Promise<readonly Accepted[]> {
  const isGrouped = (o: Accepted): boolean => o.kind === 'accepted' && o.message.messageType === 'FIFO' && o.message.messageGroup !== undefined;
  if (fifo === undefined || !accepted.some(isGrouped)) return accepted;
  return Promise.all(
    accepted.map(async (outcome, i): Promise<Accepted> => {
      if (outcome.kind !== 'accepted' || outcome.message.messageType !== 'FIFO') return outcome;
      if (outcome.message.messageGroup === undefined) return outcome;
      try {
        const send = { topic: outcome.topic.name, messageGroup: outcome.message.messageGroup, wire: messages[i] };
        const decision = await fifo.decide(send, forwardedCall);
        return decision.kind === 'forward' ? { kind: 'remote', forward: decision } : { ...outcome, ownerQueueId: decision.ownerQueueId };
      } catch (error) {
        return { kind: 'failed', error };
      }
    }),
  );
}

/** The owner brokers' answers for the messages placed remote: request index → outcome. */
async function forwardAll(
  fifo: SendMessageDeps['fifo'],
  placed: readonly Accepted[],
  context?: V2CallContext,
): Promise<Map<number, Outcome>> {
  const remote = new Map<number, ForwardDecision>();
  placed.forEach((outcome, i) => outcome.kind === 'remote' && remote.set(i, outcome.forward));
  const outcomes = new Map<number, Outcome>();
  if (fifo === undefined || remote.size === 0) return outcomes;
  for (const [i, result] of await fifo.forwardAll(remote, context?.metadata)) {
    outcomes.set(i, result instanceof Error ? { kind: 'failed', error: result } : { kind: 'forwarded', entry: result });
  }
  return outcomes;
}

/** The topic a checked message goes to; only storable types may auto-create one. */
async function topicFor(deps: SendMessageDeps, message: CheckedMessage): Promise<TopicConfig> {
  const { topics } = deps;
  const storable =
    STORABLE_TYPES.has(message.messageType) ||
    (message.messageType === 'DELAY' && deps.delay !== undefined) ||
    (message.messageType === 'TRANSACTION' && deps.transactions !== undefined);
  if (storable) return topics.ensureTopicForSend(message.topic, message.messageType);
  const known = topics.get(message.topic);
  if (known !== undefined) assertMessageType(known, message.messageType);
  const types = ['NORMAL', 'FIFO', ...(deps.delay === undefined ? [] : ['DELAY']), ...(deps.transactions === undefined ? [] : ['TRANSACTION'])];
  throw new ApogeeError(
    'UNSUPPORTED_MESSAGE_TYPE',
    `Message ${message.messageId} is a ${message.messageType} message; this broker stores ${types.join(', ')} messages only so far`,
  );
}

/** The due time of a DELAY message: a valid timestamp at most maxDelayMs ahead (past: deliver now). */
function deliveryTimeOf(wire: WireMessage, message: CheckedMessage, nowMs: number, delay: DelayOptions): number {
  const dueMs = millisOf(wire.system_properties?.delivery_timestamp ?? undefined);
  if (dueMs === undefined || !Number.isSafeInteger(dueMs) || dueMs < 0) {
    throw new ApogeeError(
      'INVALID_DELIVERY_TIME',
      `Message ${message.messageId} is a DELAY message without a valid delivery_timestamp; set the delivery time (epoch seconds and nanos)`,
    );
  }
  if (dueMs - nowMs > delay.maxDelayMs) {
    throw new ApogeeError(
      'INVALID_DELIVERY_TIME',
      `Message ${message.messageId} is due at ${new Date(dueMs).toISOString()}, ${dueMs - nowMs} ms from now; ` +
        `this broker delays messages by at most ${delay.maxDelayMs} ms (${delay.maxDelayMs / 3_600_000} h, timerMaxDelayMs)`,
    );
  }
  return dueMs;
}

/**
 * Appends every accepted message in request order with one store call (one acknowledgement for
 * the request); non-FIFO ones of the request share one queue. A message the store refuses fails
 * alone; a store failure fails them all.
 */
async function appendAll(deps: SendMessageDeps, accepted: readonly Accepted[], nowMs: number): Promise<Outcome[]> {
  let sharedQueueId: number | undefined;
  const outcomes: Outcome[] = new Array(accepted.length);
  const inputs: MessageInput[] = [];
  const slots: number[] = [];
  const timerDues = new Map<number, { dueMs: number; topic: string }>(); // input index → messages going to the timer
  const halves = new Map<number, { topic: string; queueId: number }>(); // input index → half messages (transactions)
  accepted.forEach((outcome, i) => {
    if (outcome.kind === 'remote') return; // answered by forwardAll
    if (outcome.kind === 'failed') {
      outcomes[i] = outcome;
      return;
    }
    const { message: checked, topic } = outcome;
    try {
      const queueId =
        checked.messageGroup !== undefined
          ? deps.queues.pick(topic, checked.messageGroup, outcome.ownerQueueId)
          : (sharedQueueId ??= deps.queues.pick(topic));
      const input: MessageInput = {
        topic: topic.name,
        queueId,
        body: checked.body,
        messageId: checked.messageId,
        bornTimestampMs: checked.bornTimestampMs,
        bornHost: checked.bornHost,
        keys: checked.keys,
        tag: checked.tag,
        properties: checked.properties,
      };
      const { dueMs } = outcome;
      if (dueMs !== undefined && dueMs > nowMs) timerDues.set(inputs.length, { dueMs, topic: topic.name });
      if (checked.messageType === 'TRANSACTION' && deps.transactions !== undefined) {
        halves.set(inputs.length, { topic: topic.name, queueId });
        inputs.push(halfInputOf(input));
      } else {
        inputs.push(dueMs === undefined ? input : delayedInputOf(input, dueMs, nowMs));
      }
      slots.push(i);
    } catch (error) {
      outcomes[i] = { kind: 'failed', error };
    }
  });
  if (inputs.length > 0) {
    try {
      const results = await deps.store.appendBatch(inputs);
      const recorded = await recordHalves(deps, inputs, results, halves);
      results.forEach((result, k) => {
        if (result instanceof Error) {
          outcomes[slots[k]] = { kind: 'failed', error: result };
          return;
        }
        const transaction = recorded.get(k);
        if (transaction !== undefined) {
          outcomes[slots[k]] =
            transaction instanceof Error
              ? { kind: 'failed', error: transaction }
              : { kind: 'ok', offset: result.queueOffset, end: result.physicalOffset + result.totalBytes, transactionId: transaction };
          return;
        }
        const timer = timerDues.get(k);
        if (timer !== undefined) deps.delay?.noteSent?.(result, timer.dueMs);
        const recallHandle =
          timer === undefined || deps.delay === undefined
            ? undefined
            : encodeRecallHandle({
                topic: timer.topic,
                brokerName: deps.delay.brokerName,
                dueMs: timer.dueMs,
                physicalOffset: result.physicalOffset,
                messageId: inputs[k].messageId,
              });
        outcomes[slots[k]] = { kind: 'ok', offset: result.queueOffset, end: result.physicalOffset + result.totalBytes, recallHandle };
      });
    } catch (error) {
      for (const i of slots) outcomes[i] = { kind: 'failed', error };
    }
    if (deps.replicated !== undefined) await confirmReplicated(deps.replicated, slots, outcomes);
  }
  return outcomes;
}

/** SYNC replication: the stored entries stay OK only once a slave confirmed the request's last record (else they fail with why). */
async function confirmReplicated(replicated: (end: number) => Promise<void>, slots: readonly number[], outcomes: Outcome[]): Promise<void> {
  let end = -1;
  for (const i of slots) {
    const outcome = outcomes[i];
    if (outcome.kind === 'ok') end = Math.max(end, outcome.end);
  }
  if (end < 0) return;
  try {
    await replicated(end);
  } catch (error) {
    for (const i of slots) if (outcomes[i].kind === 'ok') outcomes[i] = { kind: 'failed', error };
  }
}

/** Records the open transaction of each half message stored (durable before the answer): input index → transaction id or the failure. */
async function recordHalves(
  deps: SendMessageDeps,
  inputs: readonly MessageInput[],
  results: ReadonlyArray<AppendResult | Error>,
  halves: ReadonlyMap<number, { topic: string; queueId: number }>,
): Promise<Map<number, string | Error>> {
  const recorded = new Map<number, string | Error>();
  const { transactions } = deps;
  if (transactions === undefined) return recorded;
  await Promise.all(
    [...halves].map(async ([k, { topic, queueId }]) => {
      const result = results[k];
      if (result instanceof Error) return;
      try {
        recorded.set(k, await transactions.recordHalf(result, inputs[k].messageId, topic, queueId));
      } catch (error) {
        recorded.set(k, error instanceof Error ? error : new Error(String(error)));
      }
    }),
  );
  return recorded;
}

function answer(ids: readonly string[], outcomes: readonly Outcome[]): WireSendMessageResponse {
  const entries = outcomes.map((outcome, i) => entryOf(outcome, ids[i]));
  return { status: overall(entries.map((e) => e.status)), entries };
}

/** A message's entry: ours, or as its owner broker answered a forward. */
function entryOf(outcome: Outcome, id: string): SendResultEntry {
  if (outcome.kind === 'forwarded') return outcome.entry;
  if (outcome.kind === 'failed') return { status: v2StatusOf(outcome.error), message_id: id, transaction_id: '', offset: '0' };
  return {
    status: okV2Status(),
    message_id: id,
    transaction_id: outcome.transactionId ?? '',
    offset: String(outcome.offset),
    ...(outcome.recallHandle !== undefined ? { recall_handle: outcome.recallHandle } : {}),
  };
}

/** The common status when every entry agrees, else MULTIPLE_RESULTS naming how many failed. */
function overall(statuses: readonly V2Status[]): V2Status {
  const first = statuses[0];
  if (statuses.every((s) => s.code === first.code)) return first;
  const failed = statuses.filter((s) => s.code !== 'OK').length;
  return { code: 'MULTIPLE_RESULTS', message: `${failed} of ${statuses.length} messages failed; see each entry's status` };
}
