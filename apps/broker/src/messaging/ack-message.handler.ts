/**
 * AckMessage (doc §3.10): each entry's receipt handle is acked through PopConsumption and gets
 * its own status (stale, expired or malformed handles: INVALID_RECEIPT_HANDLE; no message_id:
 * ILLEGAL_MESSAGE_ID, not acked, as the official clients always send it). The top-level
 * status is the entries' common status, else MULTIPLE_RESULTS; clients send one entry per
 * request and read only the top level, so for them it is the entry's code. In a broadcast group
 * the handle is acked under the calling client's own state (consumer/broadcast-state.ts).
 */
import { ApogeeError, okV2Status, v2StatusOf, type V2Status } from '@apogee/protocol';
import { validateGroupName, validateConsumableTopicName } from '@apogee/routing';
import type { Logger } from '@apogee/runtime';
import { handleScopeOf, type BroadcastGroups } from '../consumer/broadcast-state';
import type { ClientLeases } from '../consumer/client-leases';
import type { PopConsumption } from '../consumer/pop-consumption';
import type { V2CallContext } from './v2-unary';
import type { WireAckMessageRequest, WireAckMessageResponse, WireAckMessageResultEntry } from './v2-wire';

export interface AckMessageDeps {
  readonly consumption: Pick<PopConsumption, 'ack'>;
  readonly groups: BroadcastGroups;
  readonly logger: Logger;
  /** Auto-renew deliveries held per client: an acked one is no longer held. */
  readonly leases?: Pick<ClientLeases, 'forget'>;
}

export function ackMessageHandler(deps: AckMessageDeps) {
  return async (request: WireAckMessageRequest, context: Pick<V2CallContext, 'clientId'>): Promise<WireAckMessageResponse> => {
    const group = request.group?.name ?? '';
    const topic = request.topic?.name ?? '';
    validateGroupName(group);
    validateConsumableTopicName(topic);
    const { stateGroup, explain } = handleScopeOf(deps.groups, group, context.clientId);
    const entries = request.entries ?? [];
    if (entries.length === 0) throw new ApogeeError('INVALID_ARGUMENT', 'AckMessage carries no entries; ack at least one receipt handle');
    const results = await Promise.all(
      entries.map(async (entry): Promise<WireAckMessageResultEntry> => {
        const receiptHandle = entry.receipt_handle ?? '';
        let status: V2Status;
        try {
          if (!entry.message_id) {
            throw new ApogeeError('MISSING_MESSAGE_ID', 'The ack entry has no message_id; send the message id of the received message with its receipt handle');
          }
          await deps.consumption.ack({ group: stateGroup, topic, receiptHandle }).catch((err: unknown) => {
            throw explain(err);
          });
          deps.leases?.forget(receiptHandle);
          status = okV2Status();
        } catch (err) {
          status = v2StatusOf(err);
          if (status.code === 'INTERNAL_SERVER_ERROR') deps.logger.error({ err, method: 'AckMessage' }, 'ack failed');
        }
        return { message_id: entry.message_id ?? '', receipt_handle: receiptHandle, status };
      }),
    );
    return { status: overall(results.map((r) => r.status)), entries: results };
  };
}

function overall(statuses: readonly V2Status[]): V2Status {
  const first = statuses[0];
  if (statuses.every((s) => s.code === first.code)) return first;
  const failed = statuses.filter((s) => s.code !== 'OK').length;
  return { code: 'MULTIPLE_RESULTS', message: `${failed} of ${statuses.length} acks failed; see each entry's status` };
}
