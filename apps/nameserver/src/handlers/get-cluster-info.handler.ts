import { clusterInfoToWire, type WireEmpty, type WireGetClusterInfoResponse } from '@apogee/protocol';
import type { NameserverContext } from '../nameserver-context';
import type { UnaryHandler } from '@apogee/runtime';

/** GetClusterInfo: clusters → broker groups → live replicas with their last heartbeat. */
export function getClusterInfoHandler(ctx: NameserverContext): UnaryHandler<WireEmpty, WireGetClusterInfoResponse> {
  return () => clusterInfoToWire(ctx.routes.clusterInfo());
}
