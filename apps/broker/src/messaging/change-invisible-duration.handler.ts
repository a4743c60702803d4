/**
 * ChangeInvisibleDuration (doc §3.11): the message becomes visible again at now + duration
 * (0 allowed, at most 12 h → else ILLEGAL_INVISIBLE_TIME); the answer carries the new receipt
 * handle and the old one turns stale. Every error answer echoes the request's handle, since Java
 * stores the returned handle before it checks the status. In a broadcast group the handle is
 * looked up under the calling client's own state (consumer/broadcast-state.ts).
 */
import { ApogeeError, okV2Status, v2StatusOf } from '@apogee/protocol';
import { validateGroupName, validateConsumableTopicName } from '@apogee/routing';
import type { Logger } from '@apogee/runtime';
import { handleScopeOf, type BroadcastGroups } from '../consumer/broadcast-state';
import type { ClientLeases } from '../consumer/client-leases';
import type { PopConsumption } from '../consumer/pop-consumption';
import type { V2CallContext } from './v2-unary';
import { millisOf, type WireChangeInvisibleDurationRequest, type WireChangeInvisibleDurationResponse } from './v2-wire';

export interface ChangeInvisibleDurationDeps {
  readonly consumption: Pick<PopConsumption, 'changeInvisibleDuration'>;
  readonly groups: BroadcastGroups;
  readonly logger: Logger;
  /** Auto-renew deliveries held per client: a settled one is no longer held. */
  readonly leases?: Pick<ClientLeases, 'forget'>;
}

export function changeInvisibleDurationHandler(deps: ChangeInvisibleDurationDeps) {
  return async (
    request: WireChangeInvisibleDurationRequest,
    context: Pick<V2CallContext, 'clientId'>,
  ): Promise<WireChangeInvisibleDurationResponse> => {
    const receiptHandle = request.receipt_handle ?? '';
    try {
      const group = request.group?.name ?? '';
      const topic = request.topic?.name ?? '';
      validateGroupName(group);
      validateConsumableTopicName(topic);
      const invisibleDurationMs = millisOf(request.invisible_duration);
      if (invisibleDurationMs === undefined) {
        throw new ApogeeError('ILLEGAL_INVISIBLE_TIME', 'ChangeInvisibleDuration has no invisible_duration; give 0 to 12 h');
      }
      const { stateGroup, explain } = handleScopeOf(deps.groups, group, context.clientId);
      const changed = await deps.consumption
        .changeInvisibleDuration({ group: stateGroup, topic, receiptHandle, invisibleDurationMs })
        .catch((err: unknown) => {
          throw explain(err);
        });
      deps.leases?.forget(receiptHandle); // a nack: visible again after its back-off, not held
      return { status: okV2Status(), receipt_handle: changed.receiptHandle };
    } catch (err) {
      const status = v2StatusOf(err);
      if (status.code === 'INTERNAL_SERVER_ERROR') deps.logger.error({ err, method: 'ChangeInvisibleDuration' }, 'request failed');
      else deps.logger.debug({ method: 'ChangeInvisibleDuration', code: status.code, error: status.message }, 'request refused');
      return { status, receipt_handle: receiptHandle };
    }
  };
}
