import { parseBrokerAddress, validateBrokerId, validateBrokerName } from '@apogee/routing';
import { replicaRefFromWire, type WireReplicaRef, type WireUnregisterBrokerResponse } from '@apogee/protocol';
import type { NameserverContext } from '../nameserver-context';
import type { UnaryHandler } from '@apogee/runtime';

/** UnregisterBroker: a broker shutting down cleanly leaves every route at once. */
export function unregisterBrokerHandler(
  ctx: NameserverContext,
): UnaryHandler<WireReplicaRef, WireUnregisterBrokerResponse> {
  return (request) => {
    const ref = replicaRefFromWire(request);
    validateBrokerName(ref.brokerName);
    validateBrokerId(ref.brokerId);
    if (ref.address !== undefined) parseBrokerAddress(ref.address);
    const removed = ctx.routes.unregister(ref);
    if (removed) ctx.logger.info({ broker: ref.brokerName, brokerId: ref.brokerId, address: ref.address }, 'broker unregistered');
    return { removed };
  };
}
