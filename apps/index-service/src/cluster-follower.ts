/**
 * ClusterFollower: which brokers the index-service follows, and the timers around the Indexer.
 *
 * - Discovery: every discoveryIntervalMs, asks each nameserver for the cluster info and follows
 *   the master of every broker group listed (a BrokerFollower per broker name). A master at a new
 *   address is followed there at once; a group no nameserver lists any more keeps its follower,
 *   which retries with back-off (its messages stay in the index and queries need it).
 * - Checkpoint: every checkpointIntervalMs (and when a follower's backlog asks), Indexer.checkpoint.
 * - Retention (simple rule): every retentionIntervalMs, for each numbered broker read the message
 *   at its oldest retained offset (min_offset of its last batch) and take its store time; the
 *   index retires files whose newest entry is older than the smallest of these times. If any
 *   broker's time is unknown (not connected, nothing retained, no batch yet), nothing is retired.
 */
import { MASTER_ID, type ClusterInfo } from '@apogee/routing';
import { type BrokerDispatchClient, type IndexFollowedBroker, type IndexStatusResponse, int64FromWire, type NameServerClient } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';
import { BrokerFollower, type FollowerOptions } from './broker-follower';
import { type DispatchClientFactory } from './dispatch-source';
import type { Indexer } from './indexer';
import type { BrokerDirectory } from './message-query';
import type { FollowedBrokerLag, IndexMetrics } from './metrics';

export interface ClusterFollowerOptions extends FollowerOptions {
  readonly discoveryIntervalMs: number;
  readonly checkpointIntervalMs: number;
  readonly retentionIntervalMs: number;
}

export interface ClusterFollowerDeps {
  readonly indexer: Indexer;
  readonly nameservers: readonly NameServerClient[];
  readonly dispatchClient: DispatchClientFactory;
  readonly logger: Logger;
  readonly metrics?: IndexMetrics;
  readonly now?: () => number;
}

/** The master of every broker group the cluster info lists. */
export function mastersIn(info: ClusterInfo): Map<string, string> {
  const out = new Map<string, string>();
  for (const group of info.brokers) {
    const master = group.replicas.find((r) => r.brokerId === MASTER_ID);
    if (master) out.set(group.brokerName, master.address);
  }
  return out;
}

export class ClusterFollower implements BrokerDirectory {
  private readonly followers = new Map<string, BrokerFollower>();
  private readonly clients = new Map<string, BrokerDispatchClient>();
  private readonly timers: NodeJS.Timeout[] = [];
  private discovering: Promise<void> | null = null;
  private stopped = false;
  private readonly followingSince = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    private readonly options: ClusterFollowerOptions,
    private readonly deps: ClusterFollowerDeps,
  ) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    void this.discover();
    this.every(this.options.discoveryIntervalMs, () => this.discover());
    this.every(this.options.checkpointIntervalMs, () => this.checkpoint());
    this.every(this.options.retentionIntervalMs, () => this.retire());
  }

  /** Asks the nameservers once and follows what they list; resolves when done (tests call it). */
  discover(): Promise<void> {
    this.discovering ??= this.discoverOnce().finally(() => (this.discovering = null));
    return this.discovering;
  }

  clientOf(brokerName: string): BrokerDispatchClient | undefined {
    const follower = this.followers.get(brokerName);
    return follower ? this.client(follower.address) : undefined;
  }

  brokerNames(): string[] {
    return [...this.followers.keys()].sort();
  }

  status(): IndexStatusResponse {
    const brokers: IndexFollowedBroker[] = this.deps.indexer
      .positionsList()
      .sort((a, b) => (a.brokerName < b.brokerName ? -1 : 1))
      .map((p) => {
        const f = this.followers.get(p.brokerName);
        return {
          broker_name: p.brokerName,
          address: f?.address ?? '',
          indexed_offset: String(p.nextOffset),
          max_offset: String(Math.max(p.maxOffset, p.nextOffset)),
          indexed_store_timestamp_ms: String(p.indexedStoreTimeMs),
          connected: f?.connected ?? false,
          last_error: f?.lastError ?? '',
        };
      });
    return { brokers, indexed_entries: String(this.deps.indexer.entries) };
  }

  lag(): FollowedBrokerLag[] {
    const now = this.now();
    return this.deps.indexer.positionsList().map((p) => {
      const lagBytes = Math.max(0, p.maxOffset - p.nextOffset);
      const since = p.indexedStoreTimeMs || this.followingSince.get(p.brokerName) || now;
      return { brokerName: p.brokerName, lagBytes, lagSeconds: lagBytes === 0 ? 0 : Math.max(0, now - since) / 1000 };
    });
  }

  async checkpoint(): Promise<void> {
    try {
      await this.deps.indexer.checkpoint();
      this.deps.metrics?.checkpoints.inc();
    } catch (err) {
      this.deps.logger.error({ err }, 'checkpoint failed');
    }
  }

  /** Applies the retention rule of the header once; resolves to the files retired. */
  async retire(): Promise<number> {
    let cutoff = Infinity;
    for (const p of this.deps.indexer.positionsList()) {
      const client = this.clientOf(p.brokerName);
      if (!client || p.minOffset <= 0) return 0;
      try {
        const answer = await client.getMessages([p.minOffset]);
        const item = answer.items?.[0];
        if (!item?.found || !item.message) return 0;
        cutoff = Math.min(cutoff, int64FromWire(item.message.store_timestamp_ms));
      } catch {
        return 0;
      }
    }
    if (!Number.isFinite(cutoff) || this.stopped) return 0;
    const retired = await this.deps.indexer.retireBefore(cutoff);
    if (retired > 0) this.deps.logger.info({ retired, beforeStoreTimeMs: cutoff }, 'index files retired');
    return retired;
  }

  /** Stops the timers and every stream, closes the broker clients; the Indexer is the caller's. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const f of this.followers.values()) f.stop();
    await this.discovering?.catch(() => undefined);
    for (const f of this.followers.values()) f.stop(); // any discovery started meanwhile
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private async discoverOnce(): Promise<void> {
    const answers = await Promise.allSettled(this.deps.nameservers.map((ns) => ns.clusterInfo()));
    if (this.stopped) return;
    const masters = new Map<string, string>();
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled') for (const [name, address] of mastersIn(a.value)) masters.set(name, address);
      else this.deps.logger.debug({ nameserver: this.deps.nameservers[i]?.address, err: a.reason }, 'cluster info failed');
    });
    for (const [name, address] of masters) {
      const follower = this.followers.get(name);
      if (follower) {
        const old = follower.address;
        follower.moveTo(address);
        if (old !== address) this.dropClient(old);
        continue;
      }
      const created = new BrokerFollower(name, address, this.options, {
        indexer: this.deps.indexer,
        client: (a) => this.client(a),
        logger: this.deps.logger,
        requestCheckpoint: () => void this.checkpoint(),
        onApplied: (broker, r) => {
          this.deps.metrics?.messages.inc({ broker }, r.messages);
          this.deps.metrics?.entries.inc({ broker }, r.entries);
        },
      });
      this.followers.set(name, created);
      this.followingSince.set(name, this.now());
      this.deps.logger.info({ broker: name, address }, 'broker discovered');
      created.start();
    }
  }

  private client(address: string): BrokerDispatchClient {
    let client = this.clients.get(address);
    if (!client) {
      client = this.deps.dispatchClient(address);
      this.clients.set(address, client);
    }
    return client;
  }

  private dropClient(address: string): void {
    if ([...this.followers.values()].some((f) => f.address === address)) return;
    this.clients.get(address)?.close();
    this.clients.delete(address);
  }

  private every(ms: number, run: () => Promise<unknown>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.stopped) return;
      busy = true;
      run()
        .catch((err: unknown) => this.deps.logger.error({ err }, 'background task failed'))
        .finally(() => (busy = false));
    }, ms);
    this.timers.push(timer);
  }
}
