/** BrokerAdmin's group RPCs: wire ↔ GroupConfig, then the GroupRegistry does the work. */
import type { AdminGroup, AdminGroupRequest, AdminRetryPolicy, BrokerAdminHandlers } from '@apogee/protocol';
import { validateGroupName } from '@apogee/routing';
import { DEFAULT_RETRY_POLICY, type GroupConfig, type RetryPolicy } from '../metadata/group-config';
import type { GroupChanges, GroupRegistry } from '../metadata/group-registry';

type GroupHandlers = Pick<BrokerAdminHandlers, 'CreateGroup' | 'UpdateGroup' | 'DeleteGroup' | 'GetGroup' | 'ListGroups'>;

export function groupAdminHandlers(groups: GroupRegistry): GroupHandlers {
  return {
    CreateGroup: async (request) => ({ group: toAdminGroup(await groups.create({ name: nameOf(request), ...changesOf(request) })) }),
    UpdateGroup: async (request) => ({ group: toAdminGroup(await groups.update(nameOf(request), changesOf(request))) }),
    DeleteGroup: async (request) => ({ group: toAdminGroup(await groups.delete(nameOf(request))) }),
    GetGroup: async (request) => ({ group: toAdminGroup(groups.require(checkedName(request))) }),
    ListGroups: async () => ({ groups: groups.list().map(toAdminGroup) }),
  };
}

export function toAdminGroup(group: GroupConfig): AdminGroup {
  const policy = group.retryPolicy;
  return {
    name: group.name,
    fifo: group.fifo,
    max_delivery_attempts: group.maxDeliveryAttempts,
    broadcast: group.broadcast ?? false,
    retry_policy:
      policy.kind === 'EXPONENTIAL'
        ? { exponential: { initial_ms: policy.initialBackoffMs, max_ms: policy.maxBackoffMs, multiplier: policy.multiplier } }
        : { customized: { delays_ms: [...policy.backoffMs] } },
  };
}

function nameOf(request: { name?: string }): string {
  return request.name ?? '';
}

/** The name, if well-formed: system groups may be read, not changed. */
function checkedName(request: { name?: string }): string {
  const name = nameOf(request);
  validateGroupName(name, { allowReserved: true });
  return name;
}

function changesOf(request: AdminGroupRequest): GroupChanges {
  return {
    fifo: request.fifo,
    maxDeliveryAttempts: request.max_delivery_attempts,
    retryPolicy: retryPolicyOf(request.retry_policy),
    broadcast: request.broadcast,
  };
}

/** An exponential policy's unset fields take the defaults; an empty RetryPolicy changes nothing. */
function retryPolicyOf(wire: AdminRetryPolicy | undefined): RetryPolicy | undefined {
  if (wire?.exponential !== undefined) {
    const { initial_ms, max_ms, multiplier } = wire.exponential;
    return {
      kind: 'EXPONENTIAL',
      initialBackoffMs: initial_ms ?? DEFAULT_RETRY_POLICY.initialBackoffMs,
      maxBackoffMs: max_ms ?? DEFAULT_RETRY_POLICY.maxBackoffMs,
      multiplier: multiplier ?? DEFAULT_RETRY_POLICY.multiplier,
    };
  }
  if (wire?.customized !== undefined) return { kind: 'CUSTOMIZED', backoffMs: wire.customized.delays_ms ?? [] };
  return undefined;
}
