/**
 * Heartbeat (doc §3.3): refreshes the client's liveness and answers OK. RocketMQ answers
 * UNRECOGNIZED_CLIENT_TYPE for a client without Settings, but Java re-admits an endpoint it
 * isolated after a failed send only on an OK heartbeat, so every client gets OK here.
 */
import { okV2Status } from '@apogee/protocol';
import type { ClientRegistry } from './client-registry';
import type { V2CallContext } from './v2-unary';
import type { WireHeartbeatRequest, WireStatusResponse } from './v2-wire';

export function heartbeatHandler(clients: ClientRegistry) {
  return (request: WireHeartbeatRequest, context: V2CallContext): WireStatusResponse => {
    clients.touch(context.clientId, request.client_type ?? 'CLIENT_TYPE_UNSPECIFIED');
    return { status: okV2Status() };
  };
}
