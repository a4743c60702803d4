/**
 * NotifyClientTermination (doc §3.4): forgets the client, tells the owner (the consumer side hands
 * back the client's auto_renew deliveries, doc §5.3) and always answers OK. Node awaits
 * these calls during shutdown() without catching errors, so a failure here would leave the
 * client's process hanging.
 */
import { okV2Status } from '@apogee/protocol';
import type { ClientRegistry } from './client-registry';
import type { V2CallContext } from './v2-unary';
import type { WireNotifyClientTerminationRequest, WireStatusResponse } from './v2-wire';

export function notifyClientTerminationHandler(clients: ClientRegistry, onTermination?: (clientId: string) => void) {
  return (_request: WireNotifyClientTerminationRequest, context: V2CallContext): WireStatusResponse => {
    clients.remove(context.clientId);
    onTermination?.(context.clientId);
    return { status: okV2Status() };
  };
}
