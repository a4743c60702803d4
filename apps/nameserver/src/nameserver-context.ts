import type { HeartbeatTiming } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';
import type { NameserverMetrics } from './metrics';
import type { RouteRegistry } from './route-registry';

/** What every RPC handler works with. */
export interface NameserverContext {
  readonly routes: RouteRegistry;
  readonly metrics: NameserverMetrics;
  readonly logger: Logger;
  /** Told to every broker that registers. */
  readonly timing: HeartbeatTiming;
}
