/**
 * QueryRoute (doc §3.1): the topic's message queues with permission, broker {name, id,
 * endpoints} and accept_message_types.
 *
 * An unknown topic with autoCreateTopics on gets a provisional route (this broker, the default
 * queue layout, every message type accepted) instead of TOPIC_NOT_FOUND, because a producer's
 * first call is QueryRoute and must succeed for its first send to reach us; the topic itself is
 * created by that send, with the send's message type (a FIFO producer must not find a NORMAL
 * topic made for it by a route query). Nothing is stored for a route query.
 */
import { ApogeeError } from '@apogee/protocol';
import { MESSAGE_TYPES, createTopicConfig, isDeadLetterTopic, queuesOf, validateConsumableTopicName, type TopicRoute } from '@apogee/routing';
import type { TopicRegistry } from '../metadata/topic-registry';
import type { RouteSource } from './route-source';
import { v2MessageQueue } from './route-endpoints';
import { okV2Status } from '@apogee/protocol';
import type { WireMessageQueue, WireQueryRouteRequest, WireQueryRouteResponse } from './v2-wire';

export interface QueryRouteDeps {
  readonly topics: TopicRegistry;
  readonly routes: RouteSource;
  readonly brokerName: string;
  readonly brokerId: number;
  /** host:port clients reach this broker at (known once the server is bound). */
  readonly advertisedAddress: () => string;
}

export function queryRouteHandler(deps: QueryRouteDeps) {
  return async (request: WireQueryRouteRequest): Promise<WireQueryRouteResponse> => {
    const topic = request.topic?.name ?? '';
    validateConsumableTopicName(topic);
    return { status: okV2Status(), message_queues: await routeQueues(deps, topic) };
  };
}

/** The topic's queues as QueryRoute answers them: the nameservers' view, else this broker's own. */
export async function routeQueues(deps: QueryRouteDeps, topic: string): Promise<WireMessageQueue[]> {
  const route = await deps.routes.fromNameservers(topic);
  return route !== undefined ? fromRoute(route) : localQueues(deps, topic);
}

function fromRoute(route: TopicRoute): WireMessageQueue[] {
  const brokers = new Map(route.brokers.map((broker) => [broker.brokerName, broker]));
  return route.queues.flatMap((queue) => {
    const broker = brokers.get(queue.brokerName);
    return broker === undefined ? [] : [v2MessageQueue(queue, broker.brokerId, broker.address)];
  });
}

function localQueues(deps: QueryRouteDeps, topic: string): WireMessageQueue[] {
  const address = deps.advertisedAddress();
  const known = deps.topics.get(topic);
  if (known !== undefined) return queuesOf(known, deps.brokerName).map((q) => v2MessageQueue(q, deps.brokerId, address));
  if (isDeadLetterTopic(topic)) {
    throw new ApogeeError('TOPIC_NOT_FOUND', `Dead-letter topic ${JSON.stringify(topic)} does not exist yet: no message of its group was dead-lettered`);
  }
  if (!deps.topics.autoCreateTopics) {
    throw new ApogeeError(
      'TOPIC_NOT_FOUND',
      `Topic ${JSON.stringify(topic)} does not exist; create it first (apogee topic create ${topic} --type NORMAL), ` +
        'or set autoCreateTopics in the broker config',
    );
  }
  const provisional = createTopicConfig({ name: topic, messageType: 'NORMAL' });
  return queuesOf(provisional, deps.brokerName).map((q) => ({
    ...v2MessageQueue(q, deps.brokerId, address),
    accept_message_types: [...MESSAGE_TYPES],
  }));
}
