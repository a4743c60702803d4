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
 * MESSAGE_CORRUPTED. DELAY and TRANSACTION messages are refused with UNSUPPORTED until the timer
 * and half-message stores exist: storing them as normal messages would deliver them early.
 */
import { ApogeeError, okV2Status, v2StatusOf, type V2Status } from '@apogee/protocol';
import type { Clock } from '@apogee/runtime';
import type { MessageType, TopicConfig } from '@apogee/routing';
import type { MessageInput, MessageStore } from '@apogee/storage';
import type { TopicRegistry } from '../metadata/topic-registry';
import { assertMessageType } from '../metadata/topic-checks';
import { checkMessage, type CheckedMessage } from './message-validation';
import type { QueuePicker } from './queue-picker';
import type { WireSendMessageRequest, WireSendMessageResponse, WireSendResultEntry } from './v2-wire';

/** Message types this broker can store today. */
const STORABLE_TYPES: ReadonlySet<MessageType> = new Set(['NORMAL', 'FIFO']);

export interface SendMessageDeps {
  readonly topics: TopicRegistry;
  readonly store: Pick<MessageStore, 'appendBatch'>;
  readonly queues: QueuePicker;
  readonly maxBodyBytes: number;
  readonly clock: Clock;
}

type Failed = { readonly kind: 'failed'; readonly error: unknown };
type Accepted = { readonly kind: 'accepted'; readonly message: CheckedMessage; readonly topic: TopicConfig } | Failed;
type Outcome = { readonly kind: 'ok'; readonly offset: number } | Failed;

export function sendMessageHandler(deps: SendMessageDeps) {
  return async (request: WireSendMessageRequest): Promise<WireSendMessageResponse> => {
    const messages = request.messages ?? [];
    if (messages.length === 0) {
      throw new ApogeeError('MESSAGE_CORRUPTED', 'SendMessage carries no messages; send at least one');
    }
    const ids = messages.map((m) => m.system_properties?.message_id ?? '');
    const topicNames = new Set(messages.map((m) => m.topic?.name ?? ''));
    if (topicNames.size > 1) {
      const error = new ApogeeError(
        'MESSAGE_CORRUPTED',
        `One SendMessage request must carry messages of one topic; this one names ${[...topicNames].map((t) => JSON.stringify(t)).join(', ')}`,
      );
      return answer(ids, ids.map(() => ({ kind: 'failed', error })));
    }
    const now = deps.clock.now();
    const topicOfType = new Map<MessageType, Promise<TopicConfig>>();
    const accepted = await Promise.all(
      messages.map(async (wire): Promise<Accepted> => {
        try {
          const message = checkMessage(wire, deps.maxBodyBytes, now);
          let topic = topicOfType.get(message.messageType);
          if (topic === undefined) topicOfType.set(message.messageType, (topic = topicFor(deps.topics, message)));
          return { kind: 'accepted', message, topic: await topic };
        } catch (error) {
          return { kind: 'failed', error };
        }
      }),
    );
    return answer(ids, await appendAll(deps, accepted));
  };
}

/** The topic a checked message goes to; only storable types may auto-create one. */
async function topicFor(topics: TopicRegistry, message: CheckedMessage): Promise<TopicConfig> {
  if (STORABLE_TYPES.has(message.messageType)) return topics.ensureTopicForSend(message.topic, message.messageType);
  const known = topics.get(message.topic);
  if (known !== undefined) assertMessageType(known, message.messageType);
  throw new ApogeeError(
    'UNSUPPORTED_MESSAGE_TYPE',
    `Message ${message.messageId} is a ${message.messageType} message; this broker stores NORMAL and FIFO messages only so far`,
  );
}

/**
 * Appends every accepted message in request order with one store call (one acknowledgement for
 * the request); non-FIFO ones of the request share one queue. A message the store refuses fails
 * alone; a store failure fails them all.
 */
async function appendAll(deps: SendMessageDeps, accepted: readonly Accepted[]): Promise<Outcome[]> {
  let sharedQueueId: number | undefined;
  const outcomes: Outcome[] = new Array(accepted.length);
  const inputs: MessageInput[] = [];
  const slots: number[] = [];
  accepted.forEach((outcome, i) => {
    if (outcome.kind === 'failed') {
      outcomes[i] = outcome;
      return;
    }
    const { message: checked, topic } = outcome;
    try {
      const queueId =
        checked.messageGroup !== undefined ? deps.queues.pick(topic, checked.messageGroup) : (sharedQueueId ??= deps.queues.pick(topic));
      inputs.push({
        topic: topic.name,
        queueId,
        body: checked.body,
        messageId: checked.messageId,
        bornTimestampMs: checked.bornTimestampMs,
        bornHost: checked.bornHost,
        keys: checked.keys,
        tag: checked.tag,
        properties: checked.properties,
      });
      slots.push(i);
    } catch (error) {
      outcomes[i] = { kind: 'failed', error };
    }
  });
  if (inputs.length > 0) {
    try {
      const results = await deps.store.appendBatch(inputs);
      results.forEach((result, k) => {
        outcomes[slots[k]] = result instanceof Error ? { kind: 'failed', error: result } : { kind: 'ok', offset: result.queueOffset };
      });
    } catch (error) {
      for (const i of slots) outcomes[i] = { kind: 'failed', error };
    }
  }
  return outcomes;
}

function answer(ids: readonly string[], outcomes: readonly Outcome[]): WireSendMessageResponse {
  const entries: WireSendResultEntry[] = outcomes.map((outcome, i) => ({
    status: outcome.kind === 'ok' ? okV2Status() : v2StatusOf(outcome.error),
    message_id: ids[i],
    transaction_id: '',
    offset: outcome.kind === 'ok' ? String(outcome.offset) : '0',
  }));
  return { status: overall(entries.map((e) => e.status)), entries };
}

/** The common status when every entry agrees, else MULTIPLE_RESULTS naming how many failed. */
function overall(statuses: readonly V2Status[]): V2Status {
  const first = statuses[0];
  if (statuses.every((s) => s.code === first.code)) return first;
  const failed = statuses.filter((s) => s.code !== 'OK').length;
  return { code: 'MULTIPLE_RESULTS', message: `${failed} of ${statuses.length} messages failed; see each entry's status` };
}
