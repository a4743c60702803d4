import { parseBrokerAddress, validateBrokerId, validateBrokerName } from '@apogee/routing';
import { replicaRefFromWire, type WireHeartbeatResponse, type WireReplicaRef } from '@apogee/protocol';
import type { NameserverContext } from '../nameserver-context';
import type { UnaryHandler } from '@apogee/runtime';

/**
 * Heartbeat: keeps a registered replica alive. A replica this nameserver does not know (it
 * restarted, or evicted the replica) is answered `reregister = true`, never an error, so the
 * broker sends its full registration again.
 */
export function heartbeatHandler(ctx: NameserverContext): UnaryHandler<WireReplicaRef, WireHeartbeatResponse> {
  return (request) => {
    const ref = replicaRefFromWire(request);
    validateBrokerName(ref.brokerName);
    validateBrokerId(ref.brokerId);
    parseBrokerAddress(ref.address ?? '');
    if (ctx.routes.heartbeat(ref)) return { reregister: false };
    ctx.logger.info({ broker: ref.brokerName, brokerId: ref.brokerId, address: ref.address }, 'unknown broker told to re-register');
    return { reregister: true };
  };
}
