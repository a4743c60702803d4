/**
 * Where QueryRoute answers come from: the nameservers' view first (so any broker, used as the
 * access point, answers for topics spread over several brokers), else this broker's own topics
 * (standalone, or no nameserver reachable or aware of the topic yet).
 */
import { createNameServerClient, type NameServerClient } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';
import type { TopicRoute } from '@apogee/routing';

/** Nameserver calls must leave room inside the client's own 3 s QueryRoute deadline. */
export const NAMESERVER_ROUTE_TIMEOUT_MS = 1_000;

export interface RouteSource {
  /** The topic's route from the first nameserver that knows it; undefined when none does (or none is configured). */
  fromNameservers(topic: string): Promise<TopicRoute | undefined>;
  close(): void;
}

export function createRouteSource(nameservers: readonly string[], logger: Logger): RouteSource {
  const clients: NameServerClient[] = nameservers.map((address) =>
    createNameServerClient(address, { timeoutMs: NAMESERVER_ROUTE_TIMEOUT_MS }),
  );
  return {
    async fromNameservers(topic) {
      for (const client of clients) {
        try {
          return await client.queryRoute(topic);
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (code !== 5 /* NOT_FOUND */) logger.warn({ nameserver: client.address, topic, err }, 'nameserver route query failed');
        }
      }
      return undefined;
    },
    close() {
      for (const client of clients) client.close();
    },
  };
}
