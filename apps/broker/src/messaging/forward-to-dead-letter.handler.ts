/**
 * ForwardMessageToDeadLetterQueue (doc §3.12): a push consumer gives up on a FIFO message (local
 * retries used up, or corrupted): the delivery its receipt handle names is copied to the group's
 * `%DLQ%<group>` topic and settled like an ack (PopConsumption.forwardToDeadLetter). As RocketMQ
 * does, delivery_attempt and max_delivery_attempts are not checked: the message is always
 * dead-lettered. Stale, expired or malformed handles answer INVALID_RECEIPT_HANDLE, which ends the
 * client's retries. In a broadcast group the handle is the calling client's own
 * (consumer/broadcast-state.ts); every client's dead letters go to the group's DLQ.
 */
import { ApogeeError, okV2Status } from '@apogee/protocol';
import { validateConsumableTopicName, validateGroupName } from '@apogee/routing';
import { handleScopeOf, type BroadcastGroups } from '../consumer/broadcast-state';
import type { ClientLeases } from '../consumer/client-leases';
import type { PopConsumption } from '../consumer/pop-consumption';
import type { V2CallContext } from './v2-unary';
import type { WireForwardMessageToDeadLetterQueueRequest, WireForwardMessageToDeadLetterQueueResponse } from './v2-wire';

export interface ForwardToDeadLetterDeps {
  readonly consumption: Pick<PopConsumption, 'forwardToDeadLetter'>;
  readonly groups: BroadcastGroups;
  /** Auto-renew deliveries held per client: a settled one is no longer held. */
  readonly leases?: Pick<ClientLeases, 'forget'>;
}

export function forwardToDeadLetterHandler(deps: ForwardToDeadLetterDeps) {
  return async (
    request: WireForwardMessageToDeadLetterQueueRequest,
    context: Pick<V2CallContext, 'clientId'>,
  ): Promise<WireForwardMessageToDeadLetterQueueResponse> => {
    const group = request.group?.name ?? '';
    const topic = request.topic?.name ?? '';
    validateGroupName(group);
    validateConsumableTopicName(topic);
    if (!request.message_id) {
      throw new ApogeeError('MISSING_MESSAGE_ID', 'ForwardMessageToDeadLetterQueue has no message_id; send the id of the received message');
    }
    const { stateGroup, explain } = handleScopeOf(deps.groups, group, context.clientId);
    const receiptHandle = request.receipt_handle ?? '';
    await deps.consumption.forwardToDeadLetter({ group: stateGroup, topic, receiptHandle }).catch((err: unknown) => {
      throw explain(err);
    });
    deps.leases?.forget(receiptHandle);
    return { status: okV2Status() };
  };
}
