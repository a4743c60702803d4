/**
 * PullMessage (doc §3.13; pull consumers of other SDKs): reads one queue of a topic from the
 * QueueOffset the client gives, as RocketMQ's pull does — no POP, no invisibility, no receipt
 * handles: the client keeps its own position and commits it with UpdateOffset. Nothing here
 * depends on the group's state, so every client of a broadcast group reads whatever it asks for
 * and commits its own offset (UpdateOffset / GetOffset act per client for such a group).
 *
 * Checks, each answered in-band: client id; group (auto-created when autoCreateGroups is on);
 * topic (must exist and be readable); queue id (taken literally, 0..n-1, else BAD_REQUEST);
 * filter (TAG `*` or `A||B`, or SQL92); batch_size ≥ 1, capped at 32; offset in
 * [min, max] of the queue, else ILLEGAL_OFFSET naming the valid range, followed by the nearest
 * valid offset as next_offset (where to resume, as RocketMQ's OFFSET_TOO_SMALL/ILLEGAL answers do).
 *
 * Polling time as for ReceiveMessage: long_polling_timeout (default 20 s) capped at 20 s and at
 * the call's remaining deadline minus DEADLINE_RESERVE_MS; ILLEGAL_POLLING_TIME when nothing is
 * left. The call scans from the offset through the tag filter; when nothing matches and the
 * queue's end was reached it sleeps until a message of the topic is dispatched (ArrivalNotifier),
 * the polling time ends, the client cancels or the broker stops, and scans on from where it got.
 * If a scan stops at its entry budget without a match it answers at once, so a long run of
 * filtered-out messages never holds the call.
 *
 * Stream: `{status}` (OK, or MESSAGE_NOT_FOUND "no new message", or the error), one `{message}`
 * per message (delivery_attempt 1, no receipt handle), then `{next_offset}`: the offset to pull
 * from next, past every message delivered or filtered out. Errors other than ILLEGAL_OFFSET carry
 * no next_offset.
 */
import type { handleServerStreamingCall, ServerWritableStream } from '@grpc/grpc-js';
import { ApogeeError, okV2Status, type V2Status } from '@apogee/protocol';
import { isReadable } from '@apogee/routing';
import type { Clock, Logger } from '@apogee/runtime';
import type { MessageStore, StoredMessage } from '@apogee/storage';
import { scanNewMessages } from '../consumer/queue-scan';
import type { MessageFilter } from '../consumer/message-filter';
import type { GroupRegistry } from '../metadata/group-registry';
import type { TopicRegistry } from '../metadata/topic-registry';
import type { ArrivalNotifier } from './arrival-notifier';
import { nextOffsetFrame, pulledFrame } from './delivered-frame';
import { pullStatusFrame } from './frame-service';
import { checkOffsetInRange, nearestValidOffset, offsetOf, resolvePullQueue, type PullQueue } from './pull-queue';
import { DEADLINE_RESERVE_MS, filterOf, MAX_BATCH_SIZE, MAX_POLLING_MS } from './receive-message.handler';
import { clientIdOf, deadlineMsOf, v2RefusalOf } from './v2-unary';
import { millisOf, type WirePullMessageRequest } from './v2-wire';

export interface PullMessageDeps {
  readonly topics: Pick<TopicRegistry, 'get'>;
  readonly groups: Pick<GroupRegistry, 'ensureGroup'>;
  readonly store: Pick<MessageStore, 'queueRange' | 'entries' | 'readMany'>;
  readonly notifier: ArrivalNotifier;
  readonly clock: Clock;
  readonly logger: Logger;
}

interface PullParams extends PullQueue {
  readonly group: string;
  readonly offset: number;
  readonly filter: MessageFilter;
  readonly batchSize: number;
  readonly pollUntilMs: number;
}

interface PullAnswer {
  readonly status: V2Status;
  readonly messages: readonly StoredMessage[];
  readonly nextOffset?: number;
}

/** Writes pre-encoded PullMessageResponse frames (frame-service.ts). */
type Call = ServerWritableStream<WirePullMessageRequest, Buffer>;

const NO_MESSAGE: V2Status = { code: 'MESSAGE_NOT_FOUND', message: 'no new message' };

export function pullMessageHandler(deps: PullMessageDeps): handleServerStreamingCall<WirePullMessageRequest, Buffer> {
  return (call) => {
    serve(deps, call).catch((err: unknown) => {
      deps.logger.error({ err, method: 'PullMessage' }, 'answering failed');
      if (!call.cancelled) call.end();
    });
  };
}

async function serve(deps: PullMessageDeps, call: Call): Promise<void> {
  let cancelled = call.cancelled;
  const cancel = new Promise<void>((resolve) => {
    call.on('cancelled', () => {
      cancelled = true;
      resolve();
    });
  });
  let params: PullParams | undefined;
  let answer: PullAnswer;
  try {
    clientIdOf(call.metadata);
    params = await pullParams(deps, call.request, deadlineMsOf(call));
    answer = outOfRange(deps, params) ?? (await longPoll(deps, params, () => cancelled, cancel));
  } catch (err) {
    answer = { status: v2RefusalOf(err, 'PullMessage', deps.logger), messages: [] };
  }
  if (cancelled) return;
  call.write(pullStatusFrame(answer.status));
  if (params !== undefined) {
    for (const message of answer.messages) call.write(pulledFrame(message, params.topic));
  }
  if (answer.nextOffset !== undefined) call.write(nextOffsetFrame(answer.nextOffset));
  call.end();
}

async function pullParams(deps: PullMessageDeps, request: WirePullMessageRequest, deadlineMs: number): Promise<PullParams> {
  const group = await deps.groups.ensureGroup(request.group?.name ?? '');
  const queue = resolvePullQueue(deps.topics, request.message_queue);
  if (!isReadable(queue.topic.permission)) {
    throw new ApogeeError(
      'TOPIC_NOT_READABLE',
      `Topic ${JSON.stringify(queue.topic.name)} is not readable on this broker (permission ${queue.topic.permission})`,
    );
  }
  const offset = offsetOf(request.offset);
  const filter = filterOf(request.filter_expression);
  const requestedBatch = request.batch_size ?? 0;
  if (!Number.isInteger(requestedBatch) || requestedBatch < 1) {
    throw new ApogeeError('INVALID_ARGUMENT', `batch_size ${requestedBatch} must be at least 1`);
  }
  const now = deps.clock.now();
  const leftMs = deadlineMs - now - DEADLINE_RESERVE_MS;
  if (leftMs <= 0) {
    throw new ApogeeError(
      'ILLEGAL_POLLING_TIME',
      `The call's deadline leaves no time to poll (it needs more than ${DEADLINE_RESERVE_MS} ms); give PullMessage a longer deadline`,
    );
  }
  const requestedPoll = millisOf(request.long_polling_timeout) ?? MAX_POLLING_MS;
  const pollMs = Math.min(Math.max(0, requestedPoll), MAX_POLLING_MS, leftMs);
  return { ...queue, group: group.name, offset, filter, batchSize: Math.min(requestedBatch, MAX_BATCH_SIZE), pollUntilMs: now + pollMs };
}

/** ILLEGAL_OFFSET with the nearest valid offset to resume from, or undefined when the offset is valid. */
function outOfRange(deps: PullMessageDeps, params: PullParams): PullAnswer | undefined {
  const range = deps.store.queueRange(params.topic.name, params.queueId);
  try {
    checkOffsetInRange(params.offset, range, params);
    return undefined;
  } catch (err) {
    return { status: v2RefusalOf(err, 'PullMessage', deps.logger), messages: [], nextOffset: nearestValidOffset(params.offset, range) };
  }
}

async function longPoll(deps: PullMessageDeps, params: PullParams, isCancelled: () => boolean, cancel: Promise<void>): Promise<PullAnswer> {
  const ref = { group: params.group, topic: params.topic.name, queueId: params.queueId };
  let next = params.offset;
  for (;;) {
    const version = deps.notifier.version(params.topic.name);
    const scan = scanNewMessages(deps.store, ref, next, params.batchSize, params.filter);
    next = scan.nextOffset;
    if (scan.messages.length > 0) return { status: okV2Status(), messages: scan.messages, nextOffset: next };
    const atEnd = next >= deps.store.queueRange(ref.topic, ref.queueId).max;
    const now = deps.clock.now();
    if (!atEnd || isCancelled() || deps.notifier.isClosed || now >= params.pollUntilMs) {
      return { status: NO_MESSAGE, messages: [], nextOffset: next };
    }
    await deps.notifier.wait(params.topic.name, version, params.pollUntilMs - now, cancel);
  }
}
