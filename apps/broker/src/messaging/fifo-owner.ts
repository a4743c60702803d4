/**
 * Which broker owns a FIFO message group when the topic spans several brokers.
 *
 * Why: the official SDKs hash a message group to a queue each their own way (doc §3.5: Node over
 * "queue 0 of each broker", Java over all writable queues, opposite byte orders), so two SDKs can
 * send one group to two brokers and its order is lost. RocketMQ's proxy fixes this by routing by
 * group itself; we do the same on every broker: the owner of a group is the queue
 * `selectQueueForMessageGroup(route.queues, group)` picks over the topic's WHOLE route as the
 * nameservers see it (the route QueryRoute answers), whichever broker the message came to.
 *
 * - Owner queue on this broker → store in that queue (`local`).
 * - Owner queue on another broker → forward to it (`remote`, broker-forwarder.ts).
 * - No route (no nameserver answers, topic unknown to them), no writable queue in it, or every
 *   queue of it on this broker → decide locally as a standalone broker does (`local-pick`).
 *
 * Routes are cached per topic for `freshMs` (a few seconds): a send never waits for a nameserver
 * while its topic's entry is fresh. An entry past `freshMs` still answers while one refresh runs
 * in the background (stale-while-revalidate); an entry past `maxStaleMs` (no send for a while) is
 * refetched before answering. "No route" is cached too, so an unknown topic costs one query per
 * `freshMs`, not one per send. The cache holds at most `maxTopics` topics, least recently used
 * dropped first. Concurrent misses of one topic share one nameserver query.
 */
import { selectQueueForMessageGroup, type TopicRoute } from '@apogee/routing';
import type { Clock } from '@apogee/runtime';
import type { RouteSource } from './route-source';

/** How long a cached route answers without a refresh. */
export const ROUTE_FRESH_MS = 3_000;
/** An entry older than this (no send in a while) is refetched before it answers. */
export const ROUTE_MAX_STALE_MS = 30_000;
/** Topics whose routes are cached at most. */
export const ROUTE_CACHE_MAX_TOPICS = 1_024;

export type FifoPlacement =
  /** No route says otherwise: pick the local queue as a standalone broker does. */
  | { readonly kind: 'local-pick' }
  /** The group's owner queue is this broker's queue `queueId`. */
  | { readonly kind: 'local'; readonly queueId: number }
  /** The group's owner queue is `queueId` on broker `brokerName`, reached at `address`. */
  | { readonly kind: 'remote'; readonly brokerName: string; readonly address: string; readonly queueId: number };

const LOCAL_PICK: FifoPlacement = Object.freeze({ kind: 'local-pick' });

/** Where a message group goes by `route` (pure; unit-tested), seen from broker `self`. */
export function placementIn(route: TopicRoute | undefined, self: string, messageGroup: string): FifoPlacement {
  if (route === undefined || route.brokers.every((broker) => broker.brokerName === self)) return LOCAL_PICK;
  const selection = selectQueueForMessageGroup(route.queues, messageGroup);
  if (selection.kind !== 'selected') return LOCAL_PICK;
  const { brokerName, queueId } = selection.queue;
  if (brokerName === self) return { kind: 'local', queueId };
  const broker = route.brokers.find((b) => b.brokerName === brokerName);
  return broker === undefined ? LOCAL_PICK : { kind: 'remote', brokerName, address: broker.address, queueId };
}

export interface FifoOwnersOptions {
  readonly routes: Pick<RouteSource, 'fromNameservers'>;
  /** This broker's name. */
  readonly brokerName: string;
  readonly clock: Clock;
  readonly freshMs?: number;
  readonly maxStaleMs?: number;
  readonly maxTopics?: number;
}

interface CachedRoute {
  readonly route: TopicRoute | undefined;
  readonly fetchedAtMs: number;
}

export class FifoOwners {
  private readonly cache = new Map<string, CachedRoute>(); // insertion order = least recently used first
  private readonly inFlight = new Map<string, Promise<TopicRoute | undefined>>();
  private readonly freshMs: number;
  private readonly maxStaleMs: number;
  private readonly maxTopics: number;

  constructor(private readonly options: FifoOwnersOptions) {
    this.freshMs = options.freshMs ?? ROUTE_FRESH_MS;
    this.maxStaleMs = Math.max(this.freshMs, options.maxStaleMs ?? ROUTE_MAX_STALE_MS);
    this.maxTopics = options.maxTopics ?? ROUTE_CACHE_MAX_TOPICS;
  }

  /** Where a message of `messageGroup` sent to `topic` goes. */
  async placementOf(topic: string, messageGroup: string): Promise<FifoPlacement> {
    return placementIn(await this.routeOf(topic), this.options.brokerName, messageGroup);
  }

  /** The topic's route, from the cache when fresh enough (see the header). */
  async routeOf(topic: string): Promise<TopicRoute | undefined> {
    const cached = this.cache.get(topic);
    const ageMs = cached === undefined ? Infinity : this.options.clock.now() - cached.fetchedAtMs;
    if (cached === undefined || ageMs > this.maxStaleMs) return this.refresh(topic);
    this.cache.delete(topic); // most recently used goes last
    this.cache.set(topic, cached);
    if (ageMs > this.freshMs) void this.refresh(topic);
    return cached.route;
  }

  /** Topics cached now (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }

  /** One nameserver query per topic at a time; RouteSource answers undefined on failures, never throws. */
  private refresh(topic: string): Promise<TopicRoute | undefined> {
    let pending = this.inFlight.get(topic);
    if (pending === undefined) {
      pending = this.options.routes
        .fromNameservers(topic)
        .catch(() => undefined)
        .then((route) => {
          this.remember(topic, route);
          return route;
        })
        .finally(() => this.inFlight.delete(topic));
      this.inFlight.set(topic, pending);
    }
    return pending;
  }

  private remember(topic: string, route: TopicRoute | undefined): void {
    this.cache.delete(topic);
    this.cache.set(topic, { route, fetchedAtMs: this.options.clock.now() });
    while (this.cache.size > this.maxTopics) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }
}
