import type { WireEmpty, WireListTopicsResponse } from '@apogee/protocol';
import type { NameserverContext } from '../nameserver-context';
import type { UnaryHandler } from '@apogee/runtime';

/** ListTopics: every topic a live replica serves, system topics included, sorted. */
export function listTopicsHandler(ctx: NameserverContext): UnaryHandler<WireEmpty, WireListTopicsResponse> {
  return () => ({ topics: ctx.routes.listTopics() });
}
