/**
 * Topics whose records BrokerDispatch does not show: the broker's own parking places, whose
 * messages no consumer sees as such (a DELAY message waiting for its time, a transactional
 * message waiting for its commit). When the message is released, the broker appends a copy to
 * its real topic, and that copy is followed and indexed like any other. Their records still
 * advance a Follow stream's next_offset.
 */
import { HALF_TOPIC } from '../transaction/half-message';
import { TIMER_TOPIC } from '../timer/timer-message';

export const HIDDEN_TOPICS: ReadonlySet<string> = new Set([TIMER_TOPIC, HALF_TOPIC]);

export function isHiddenTopic(topic: string): boolean {
  return HIDDEN_TOPICS.has(topic);
}
