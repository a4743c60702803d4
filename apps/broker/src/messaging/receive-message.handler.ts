/**
 * ReceiveMessage (doc §3.9, §4.7): a POP across every readable queue of the topic on this broker
 * (the request's queue id is ignored: Node only ever names queue 0), with long polling.
 *
 * Checks, each answered in-band: client id; group (auto-created when autoCreateGroups is on);
 * topic (must exist and be readable); filter (TAG `*` or `A||B`, or SQL92);
 * batch_size ≥ 1, capped at 32; invisible_duration in [10 s, 12 h] → else ILLEGAL_INVISIBLE_TIME,
 * or, with auto_renew (push consumers), AUTO_RENEW_INVISIBLE_MS: renewal is not implemented, so
 * a long invisible time keeps slow listeners from seeing duplicates (doc §5.3); such deliveries
 * are handed back (visible again in RELEASE_INVISIBLE_MS) when their client sends
 * NotifyClientTermination (consumer/client-leases.ts).
 *
 * Polling time: long_polling_timeout (default 20 s) capped at 20 s and at the call's remaining
 * deadline minus DEADLINE_RESERVE_MS; ILLEGAL_POLLING_TIME when nothing is left. Unlike RocketMQ
 * short requested times are not raised to 5 s. The call pops at once, then sleeps until a message
 * of the topic is dispatched (ArrivalNotifier), an in-flight message falls due, the polling time
 * ends, the client cancels or the broker stops, and pops again; it answers as soon as one pop
 * returns anything (it does not wait to fill the batch). A FIFO group's queue with a message in
 * flight is skipped (PopConsumption holds it back) until that message is acked, dead-lettered or
 * due again.
 *
 * Broadcast groups (consumer/broadcast-state.ts): the POP state is the client's own, under
 * `<group>#<clientId>`; a client's first receive on a queue starts it at the group's start for new
 * clients (set by ResetOffset) or else at the queue's end (consumer/broadcast-positions.ts).
 *
 * Stream: `{status}` (OK, or MESSAGE_NOT_FOUND "no new message", or the error), one `{message}`
 * per message, `{delivery_timestamp}`, end. If the client cancelled after messages were popped,
 * they are made visible again after RELEASE_INVISIBLE_MS.
 */
import type { handleServerStreamingCall, ServerWritableStream } from '@grpc/grpc-js';
import { ApogeeError, okV2Status, type V2Status } from '@apogee/protocol';
import { isReadable, validateConsumableTopicName, type TopicConfig } from '@apogee/routing';
import type { Clock, Logger } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import type { ClientLeases } from '../consumer/client-leases';
import { isHeldBack, MAX_INVISIBLE_DURATION_MS, type PopConsumption, type PoppedMessage } from '../consumer/pop-consumption';
import { queueKey, type QueueRef } from '../consumer/queue-ref';
import { stateGroupOf } from '../consumer/broadcast-state';
import { broadcastStartOffset } from '../consumer/broadcast-positions';
import { compileFilter, type MessageFilter } from '../consumer/message-filter';
import type { GroupRegistry } from '../metadata/group-registry';
import type { TopicRegistry } from '../metadata/topic-registry';
import type { ArrivalNotifier } from './arrival-notifier';
import { deliveredFrame, deliveryTimestampFrame } from './delivered-frame';
import { receiveStatusFrame } from './frame-service';
import { clientIdOf, deadlineMsOf, v2RefusalOf } from './v2-unary';
import { millisOf, type WireReceiveMessageRequest } from './v2-wire';

export const MAX_BATCH_SIZE = 32;
export const MIN_INVISIBLE_DURATION_MS = 10_000;
/** Invisible time of auto_renew pops while the broker does not renew (doc §5.3). */
export const AUTO_RENEW_INVISIBLE_MS = 30 * 60_000;
export const MAX_POLLING_MS = 20_000;
/** Left of the call's deadline for writing the answer. */
export const DEADLINE_RESERVE_MS = 500;
/** A cancelled delivery's messages become visible again this soon (RocketMQ: 1 s). */
export const RELEASE_INVISIBLE_MS = 1_000;
/** Longest sleep between pops even without a wake-up (safety net). */
const RECHECK_MS = 5_000;

export interface ReceiveMessageDeps {
  readonly topics: Pick<TopicRegistry, 'get'>;
  readonly groups: Pick<GroupRegistry, 'ensureGroup'>;
  readonly store: Pick<MessageStore, 'queueRange'>;
  readonly consumption: PopConsumption;
  readonly notifier: ArrivalNotifier;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where auto_renew deliveries are recorded per client, to hand back when the client leaves. */
  readonly leases?: ClientLeases;
}

interface ReceiveParams {
  /** The POP state's group: the group, or a broadcast group's per-client state key. */
  readonly group: string;
  readonly broadcast: boolean;
  readonly topic: TopicConfig;
  readonly filter: MessageFilter;
  readonly batchSize: number;
  readonly invisibleDurationMs: number;
  readonly maxDeliveryAttempts: number;
  readonly fifo: boolean;
  readonly pollUntilMs: number;
}

/** Writes pre-encoded ReceiveMessageResponse frames (frame-service.ts). */
type Call = ServerWritableStream<WireReceiveMessageRequest, Buffer>;

export function receiveMessageHandler(deps: ReceiveMessageDeps): handleServerStreamingCall<WireReceiveMessageRequest, Buffer> {
  const rotation = new Map<string, number>();
  const starting = new Map<string, Promise<unknown>>();
  return (call) => {
    serve(deps, rotation, starting, call).catch((err: unknown) => {
      deps.logger.error({ err, method: 'ReceiveMessage' }, 'answering failed');
      if (!call.cancelled) call.end();
    });
  };
}

async function serve(deps: ReceiveMessageDeps, rotation: Map<string, number>, starting: Map<string, Promise<unknown>>, call: Call): Promise<void> {
  let cancelled = call.cancelled;
  const cancel = new Promise<void>((resolve) => {
    call.on('cancelled', () => {
      cancelled = true;
      resolve();
    });
  });
  let params: ReceiveParams | undefined;
  let popped: PoppedMessage[] = [];
  let status: V2Status;
  let clientId = '';
  try {
    clientId = clientIdOf(call.metadata);
    params = await receiveParams(deps, call.request, clientId, deadlineMsOf(call));
    if (params.broadcast) await startBroadcastClient(deps, starting, params);
    popped = await longPoll(deps, rotation, params, () => cancelled, cancel);
    status = popped.length > 0 ? okV2Status() : { code: 'MESSAGE_NOT_FOUND', message: 'no new message' };
  } catch (err) {
    status = v2RefusalOf(err, 'ReceiveMessage', deps.logger);
  }
  if (cancelled) {
    if (params !== undefined) await release(deps, params, popped);
    return;
  }
  call.write(receiveStatusFrame(status));
  if (params !== undefined) {
    for (const message of popped) call.write(deliveredFrame(message, params.topic, params.invisibleDurationMs));
    if (call.request.auto_renew) holdLeases(deps, clientId, params, popped);
  }
  call.write(deliveryTimestampFrame(deps.clock.now()));
  call.end();
}

async function receiveParams(
  deps: ReceiveMessageDeps,
  request: WireReceiveMessageRequest,
  clientId: string,
  deadlineMs: number,
): Promise<ReceiveParams> {
  const group = await deps.groups.ensureGroup(request.group?.name ?? '');
  const topicName = request.message_queue?.topic?.name ?? '';
  validateConsumableTopicName(topicName);
  const topic = deps.topics.get(topicName);
  if (topic === undefined) {
    throw new ApogeeError('TOPIC_NOT_FOUND', `Topic ${JSON.stringify(topicName)} does not exist on this broker; create it or send to it first`);
  }
  if (!isReadable(topic.permission)) {
    throw new ApogeeError('TOPIC_NOT_READABLE', `Topic ${JSON.stringify(topicName)} is not readable on this broker (permission ${topic.permission})`);
  }
  const filter = filterOf(request.filter_expression);
  const requestedBatch = request.batch_size ?? 0;
  if (!Number.isInteger(requestedBatch) || requestedBatch < 1) {
    throw new ApogeeError('INVALID_ARGUMENT', `batch_size ${requestedBatch} must be at least 1`);
  }
  const invisibleDurationMs = request.auto_renew ? AUTO_RENEW_INVISIBLE_MS : millisOf(request.invisible_duration);
  if (invisibleDurationMs === undefined || invisibleDurationMs < MIN_INVISIBLE_DURATION_MS || invisibleDurationMs > MAX_INVISIBLE_DURATION_MS) {
    throw new ApogeeError(
      'ILLEGAL_INVISIBLE_TIME',
      `invisible_duration ${invisibleDurationMs ?? '(absent)'} ms is outside [${MIN_INVISIBLE_DURATION_MS}, ${MAX_INVISIBLE_DURATION_MS}] ms`,
    );
  }
  const now = deps.clock.now();
  const requestedPoll = millisOf(request.long_polling_timeout) ?? MAX_POLLING_MS;
  const leftMs = deadlineMs - now - DEADLINE_RESERVE_MS;
  if (leftMs <= 0) {
    throw new ApogeeError(
      'ILLEGAL_POLLING_TIME',
      `The call's deadline leaves no time to poll (it needs more than ${DEADLINE_RESERVE_MS} ms); give ReceiveMessage a longer deadline`,
    );
  }
  const pollMs = Math.min(Math.max(0, requestedPoll), MAX_POLLING_MS, leftMs);
  const broadcast = group.broadcast ?? false;
  return {
    group: stateGroupOf({ name: group.name, broadcast }, clientId),
    broadcast,
    topic,
    filter,
    batchSize: Math.min(requestedBatch, MAX_BATCH_SIZE),
    invisibleDurationMs,
    maxDeliveryAttempts: group.maxDeliveryAttempts,
    fifo: group.fifo,
    pollUntilMs: now + pollMs,
  };
}

/** The request's filter: TAG `*` or `A||B`, or SQL92 (consumer/message-filter.ts). Shared with PullMessage. */
export function filterOf(expression: WireReceiveMessageRequest['filter_expression']): MessageFilter {
  const type = expression?.type ?? 'TAG';
  if (type !== 'TAG' && type !== 'SQL' && type !== 'FILTER_TYPE_UNSPECIFIED') {
    throw new ApogeeError('ILLEGAL_FILTER_EXPRESSION', `Unknown filter type ${JSON.stringify(type)}; use TAG or SQL`);
  }
  return compileFilter(type === 'SQL' ? 'SQL' : 'TAG', expression?.expression ?? '*');
}

/**
 * A broadcast client's first receive on a queue: its position starts at the group's start for new
 * clients, else at the queue's end (RocketMQ broadcasting's CONSUME_FROM_LAST_OFFSET). Concurrent
 * first receives start it once.
 */
async function startBroadcastClient(deps: ReceiveMessageDeps, starting: Map<string, Promise<unknown>>, params: ReceiveParams): Promise<void> {
  const starts: Array<Promise<unknown>> = [];
  for (let queueId = 0; queueId < params.topic.readQueueCount; queueId++) {
    const ref = refOf(params, queueId);
    if (deps.consumption.position(ref) !== undefined) continue;
    const key = queueKey(ref);
    let start = starting.get(key);
    if (start === undefined) {
      const offset = broadcastStartOffset({ offsets: deps.consumption.offsets, store: deps.store }, ref);
      start = deps.consumption.commitOffset(ref, offset).finally(() => starting.delete(key));
      starting.set(key, start);
    }
    starts.push(start);
  }
  await Promise.all(starts);
}

async function longPoll(
  deps: ReceiveMessageDeps,
  rotation: Map<string, number>,
  params: ReceiveParams,
  isCancelled: () => boolean,
  cancel: Promise<void>,
): Promise<PoppedMessage[]> {
  for (;;) {
    const version = deps.notifier.version(params.topic.name);
    const popped = await popAcrossQueues(deps, rotation, params);
    if (popped.length > 0 || isCancelled() || deps.notifier.isClosed) return popped;
    const now = deps.clock.now();
    if (now >= params.pollUntilMs) return popped;
    const nextDue = nextDueMs(deps, params, now);
    const wakeAt = Math.min(params.pollUntilMs, nextDue, now + RECHECK_MS);
    await deps.notifier.wait(params.topic.name, version, wakeAt - now, cancel);
  }
}

function refOf(params: ReceiveParams, queueId: number): QueueRef {
  return { group: params.group, topic: params.topic.name, queueId };
}

/**
 * Pops from the topic's queues, starting at a rotating queue, until the batch is full. The queues
 * are popped concurrently (their POP-state records share one journal write) with a share of the
 * batch each: the messages a queue can offer at most (new entries plus redeliveries due), so the
 * pops together never exceed the batch. A queue that offered fewer (a filter skipped some) leaves
 * room that the queues left out for lack of room get in a next round.
 */
async function popAcrossQueues(deps: ReceiveMessageDeps, rotation: Map<string, number>, params: ReceiveParams): Promise<PoppedMessage[]> {
  const count = params.topic.readQueueCount;
  const key = `${params.group}\u0000${params.topic.name}`;
  const start = rotation.get(key) ?? 0;
  rotation.set(key, (start + 1) % Math.max(1, count));
  const out: PoppedMessage[] = [];
  let waiting = Array.from({ length: count }, (_, i) => refOf(params, (start + i) % count));
  while (waiting.length > 0 && out.length < params.batchSize) {
    const now = deps.clock.now();
    let room = params.batchSize - out.length;
    const pops: Array<Promise<PoppedMessage[]>> = [];
    const leftOut: QueueRef[] = [];
    for (const ref of waiting) {
      const offered = workIn(deps, params, ref, now);
      if (offered === 0) continue;
      if (room === 0) {
        leftOut.push(ref);
        continue;
      }
      const maxCount = Math.min(room, offered);
      room -= maxCount;
      pops.push(
        deps.consumption.pop({
          ...ref,
          maxCount,
          invisibleDurationMs: params.invisibleDurationMs,
          filter: params.filter,
          maxDeliveryAttempts: params.maxDeliveryAttempts,
          fifo: params.fifo,
        }),
      );
    }
    for (const popped of await settledAll(pops)) out.push(...popped);
    waiting = leftOut;
  }
  return out;
}

/** Like Promise.all, but rejects (with the first failure) only once every promise has settled. */
async function settledAll<T>(promises: ReadonlyArray<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/**
 * The most messages a pop of `ref` can return now: new entries plus in-flight messages due again
 * (a redelivery, or one out of attempts that the pop moves to the dead-letter queue); 0 for a FIFO
 * queue held back. Cheap: a pop writes state, so queues without work are not popped.
 */
function workIn(deps: ReceiveMessageDeps, params: ReceiveParams, ref: QueueRef, now: number): number {
  const inflight = deps.consumption.inflight;
  if (params.fifo && isHeldBack(inflight.values(ref), now)) return 0;
  let work = Math.max(0, deps.store.queueRange(ref.topic, ref.queueId).max - deps.consumption.nextOffset(ref));
  for (const m of inflight.values(ref)) if (m.invisibleUntilMs <= now) work++;
  return work;
}

/** When the group's next in-flight message of the topic falls due (Infinity if none). */
function nextDueMs(deps: ReceiveMessageDeps, params: ReceiveParams, now: number): number {
  let next = Infinity;
  for (let queueId = 0; queueId < params.topic.readQueueCount; queueId++) {
    for (const m of deps.consumption.inflight.values(refOf(params, queueId))) {
      if (m.invisibleUntilMs > now && m.invisibleUntilMs < next) next = m.invisibleUntilMs;
    }
  }
  return next;
}

/** auto_renew deliveries stay hidden long (no renewal): remember them to hand back if the client leaves. */
function holdLeases(deps: ReceiveMessageDeps, clientId: string, params: ReceiveParams, popped: readonly PoppedMessage[]): void {
  const nowMs = deps.clock.now();
  for (const m of popped) {
    deps.leases?.hold(clientId, { group: params.group, topic: params.topic.name, receiptHandle: m.receiptHandle, invisibleUntilMs: m.invisibleUntilMs }, nowMs);
  }
}

/**
 * Hands back what a leaving client held from auto_renew pops: visible again after
 * RELEASE_INVISIBLE_MS instead of the rest of AUTO_RENEW_INVISIBLE_MS.
 */
export async function releaseClientLeases(deps: Pick<ReceiveMessageDeps, 'consumption' | 'clock' | 'logger'>, leases: ClientLeases, clientId: string): Promise<number> {
  const held = leases.take(clientId, deps.clock.now());
  await Promise.all(
    held.map((lease) =>
      deps.consumption
        .changeInvisibleDuration({ group: lease.group, topic: lease.topic, receiptHandle: lease.receiptHandle, invisibleDurationMs: RELEASE_INVISIBLE_MS })
        .catch(() => undefined), // acked or redelivered meanwhile: nothing to hand back
    ),
  );
  return held.length;
}

/** Messages popped for a client that went away become visible again soon. */
async function release(deps: ReceiveMessageDeps, params: ReceiveParams, popped: readonly PoppedMessage[]): Promise<void> {
  await Promise.all(
    popped.map((m) =>
      deps.consumption
        .changeInvisibleDuration({ group: params.group, topic: params.topic.name, receiptHandle: m.receiptHandle, invisibleDurationMs: RELEASE_INVISIBLE_MS })
        .catch((err: unknown) => deps.logger.warn({ err, messageId: m.message.messageId }, 'releasing a cancelled delivery failed')),
    ),
  );
}
