/**
 * RecallMessage (doc §3.7, §4.4): cancels a delayed message still waiting in the timer, named by
 * the recall handle of its send receipt. Answers `{ status OK, message_id }`; BAD_REQUEST for a
 * malformed handle, one of another topic or of another broker; MESSAGE_NOT_FOUND (TIMER_NOT_FOUND)
 * when the message already fired, was recalled before, or is unknown. The Node client treats
 * every code but OK as a failure and shows the message, so each says what happened.
 */
import { ApogeeError, okV2Status, type V2Status } from '@apogee/protocol';
import { decodeRecallHandle } from '../timer/recall-handle';
import type { TimerStore } from '../timer/timer-store';
import type { WireResource } from './v2-wire';

export interface WireRecallMessageRequest {
  topic?: WireResource;
  recall_handle?: string;
}

export interface WireRecallMessageResponse {
  status: V2Status;
  message_id: string;
}

export interface RecallMessageDeps {
  readonly timer: Pick<TimerStore, 'recall'>;
  readonly brokerName: string;
}

export function recallMessageHandler(deps: RecallMessageDeps) {
  return async (request: WireRecallMessageRequest): Promise<WireRecallMessageResponse> => {
    const topic = request.topic?.name ?? '';
    const handle = decodeRecallHandle(request.recall_handle ?? '');
    if (handle.topic !== topic) {
      throw new ApogeeError(
        'BAD_REQUEST',
        `The recall handle is for a message of topic ${JSON.stringify(handle.topic)}, not ${JSON.stringify(topic)}; ` +
          'recall it with its own topic',
      );
    }
    if (handle.brokerName !== deps.brokerName) {
      throw new ApogeeError(
        'BAD_REQUEST',
        `The recall handle is for broker ${JSON.stringify(handle.brokerName)}, and this is ${JSON.stringify(deps.brokerName)}; ` +
          'send the recall to the access point of that broker',
      );
    }
    const messageId = await deps.timer.recall(handle);
    return { status: okV2Status(), message_id: messageId };
  };
}
