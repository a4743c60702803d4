import type { MessageInput, StoredMessage } from './record-codec';
import type { MessageProperties } from './properties';

/**
 * The input that stores `stored` again elsewhere: same body, message id, born time and host,
 * keys, tag and flags, in another topic and queue with the given properties (a fired timer, a
 * committed half message, a dead letter).
 */
export function storedAsInput(
  stored: StoredMessage,
  to: { readonly topic: string; readonly queueId: number; readonly properties: MessageProperties },
): MessageInput {
  return {
    topic: to.topic,
    queueId: to.queueId,
    body: stored.body,
    messageId: stored.messageId,
    bornTimestampMs: stored.bornTimestampMs,
    bornHost: stored.bornHost,
    keys: stored.keys,
    tag: stored.tag,
    flags: stored.flags,
    properties: to.properties,
  };
}
