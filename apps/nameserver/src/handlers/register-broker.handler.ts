import { RoutingError, roleOf, validateBrokerId } from '@apogee/routing';
import {
  heartbeatTimingToWire,
  registrationFromWire,
  type NameServerRegistration,
  type WireRegisterBrokerRequest,
  type WireRegisterBrokerResponse,
} from '@apogee/protocol';
import type { NameserverContext } from '../nameserver-context';
import type { UnaryHandler } from '@apogee/runtime';

/**
 * RegisterBroker: adds or refreshes one replica with every topic it serves, and tells it how
 * often to heartbeat. The routing model validates names, id, address and topic configs.
 */
export function registerBrokerHandler(
  ctx: NameserverContext,
): UnaryHandler<WireRegisterBrokerRequest, WireRegisterBrokerResponse> {
  return (request) => {
    const registration = registrationFromWire(request);
    checkRole(registration);
    const { isNew } = ctx.routes.register(registration);
    ctx.metrics.registrations.inc();
    const fields = {
      cluster: registration.clusterName,
      broker: registration.brokerName,
      brokerId: registration.brokerId,
      address: registration.address,
      topics: registration.topics.length,
    };
    if (isNew) ctx.logger.info(fields, 'broker registered');
    else ctx.logger.debug(fields, 'broker re-registered');
    return heartbeatTimingToWire(ctx.timing);
  };
}

/** A role, when given, must be the one the broker id implies. */
function checkRole(registration: NameServerRegistration): void {
  validateBrokerId(registration.brokerId);
  const { role, brokerId, brokerName } = registration;
  if (role === undefined || role === roleOf(brokerId)) return;
  throw new RoutingError(
    'INVALID_BROKER_ID',
    `Broker ${brokerName} registered broker id ${brokerId} with role ${role}; the master registers ` +
      'with broker id 0 and slaves with 1 and up: fix the id or the role',
  );
}
