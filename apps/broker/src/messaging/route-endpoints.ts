/**
 * Route answers in the v2 wire form (doc §3.1): one address per Broker.endpoints with the right
 * scheme (IPv4, IPv6, DOMAIN_NAME), broker id 0 for masters, the queue's permission as the v2
 * enum name and the topic's accepted message types.
 */
import { parseBrokerAddress, toV2Permission, type MessageQueue } from '@apogee/routing';
import type { WireEndpoints, WireMessageQueue } from './v2-wire';

/** Endpoints{scheme, [one address]} of a host:port. */
export function endpointsOf(address: string): WireEndpoints {
  const parsed = parseBrokerAddress(address);
  return { scheme: parsed.scheme, addresses: [{ host: parsed.host, port: parsed.port }] };
}

/** A routing MessageQueue as a v2 MessageQueue served by the broker at `address`. */
export function v2MessageQueue(queue: MessageQueue, brokerId: number, address: string): WireMessageQueue {
  return {
    topic: { resource_namespace: '', name: queue.topic },
    id: queue.queueId,
    permission: toV2Permission(queue.permission),
    broker: { name: queue.brokerName, id: brokerId, endpoints: endpointsOf(address) },
    accept_message_types: [...queue.acceptMessageTypes],
  };
}
