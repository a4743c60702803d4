import { validateTopicName } from '@apogee/routing';
import {
  ApogeeError,
  routeToWire,
  type WireQueryRouteRequest,
  type WireQueryRouteResponse,
} from '@apogee/protocol';
import type { NameserverContext } from '../nameserver-context';
import type { UnaryHandler } from '@apogee/runtime';

/** QueryRoute: the topic's queues merged across broker groups; NOT_FOUND when nobody serves it. */
export function queryRouteHandler(ctx: NameserverContext): UnaryHandler<WireQueryRouteRequest, WireQueryRouteResponse> {
  return (request) => {
    const topic = request.topic ?? '';
    validateTopicName(topic, { allowReserved: true });
    const route = ctx.routes.routeOf(topic);
    if (!route) {
      throw new ApogeeError(
        'NOT_FOUND',
        `Topic ${JSON.stringify(topic)} has no route: no live broker registered with this nameserver serves it; ` +
          'create the topic on a broker (apogee topic create) or check that its brokers are running',
      );
    }
    return routeToWire(route);
  };
}
