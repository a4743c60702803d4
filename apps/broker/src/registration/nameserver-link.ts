/**
 * The broker's registration with ONE nameserver, as a small state machine on its own timers, so a
 * slow or dead nameserver never delays the others:
 *
 *   connecting ──register ok──▶ registered ──heartbeat every interval (the nameserver's answer)──┐
 *       ▲  │                      │   ▲                                                           │
 *       │  └─register fails──▶ failing ◀──heartbeat fails──────────────────────────────────────┘
 *       │                         │  register again after a back-off (doubling, capped)
 *       └─heartbeat answers reregister (the nameserver restarted, or evicted us): register at once
 *
 * Topic changes re-register at once while registered (after the call in flight, if any); while
 * failing, the next retry carries them, since every attempt sends the registration as it is then.
 * One RPC at a time. Logs one line per state change; attempts while failing log at debug.
 */
import type { HeartbeatTiming, NameServerClient, NameServerRegistration } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';
import type { RegistrationMetrics } from '../metrics';

/** Used when a nameserver answers a registration without an interval. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

export interface RetryBackoff {
  /** Delay before the first retry; doubles on each further failure. */
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface NameServerLinkOptions {
  readonly client: NameServerClient;
  /** The broker's registration as it is now (topics included); called for every attempt. */
  readonly registration: () => NameServerRegistration;
  /** Bound to this nameserver. */
  readonly logger: Logger;
  readonly metrics: RegistrationMetrics;
  readonly retry: RetryBackoff;
}

type LinkState = 'connecting' | 'registered' | 'failing' | 'stopped';

export class NameServerLink {
  private state: LinkState = 'connecting';
  private timer: NodeJS.Timeout | undefined;
  /** The register or heartbeat call in flight. */
  private busy: Promise<void> | undefined;
  /** Register again once the call in flight ends (topics changed, or the nameserver asked). */
  private registerPending = false;
  /** The nameserver may hold our registration: unregister from it on stop. */
  private mayBeKnown = false;
  private failures = 0;
  private closed = false;
  /** The id and address last registered: unregistered once a registration under another one succeeds. */
  private registeredAs: { brokerId: number; address: string } | undefined;

  constructor(private readonly options: NameServerLinkOptions) {
    options.metrics.nameserverRegistered.set(this.labels, 0);
  }

  get address(): string {
    return this.options.client.address;
  }

  start(): void {
    this.registerNow();
  }

  /** The topics changed: send the registration again. */
  refresh(): void {
    if (this.state === 'stopped' || this.state === 'failing') return;
    if (this.busy !== undefined) this.registerPending = true;
    else this.registerNow();
  }

  /**
   * Stops every timer, waits for the call in flight, then unregisters if the nameserver may know
   * this broker. Unbounded here: the registrar bounds the wait and closes the client.
   */
  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.timer);
    await this.busy;
    if (!this.mayBeKnown || this.closed) return;
    const { brokerName, brokerId, address } = this.options.registration();
    try {
      const { removed } = await this.options.client.unregister({ brokerName, brokerId, address });
      this.options.logger.info({ removed }, 'unregistered from nameserver');
    } catch (err) {
      this.options.logger.warn({ error: errorText(err) }, 'unregister from nameserver failed');
    } finally {
      this.options.metrics.nameserverRegistered.set(this.labels, 0);
    }
  }

  /** Closes the client: calls in flight fail with CANCELLED, and stop() sends nothing more. */
  close(): void {
    this.closed = true;
    this.options.client.close();
  }

  private get labels(): { nameserver: string } {
    return { nameserver: this.address };
  }

  private registerNow(): void {
    this.registerPending = false;
    this.run(() => this.register());
  }

  /** Runs one call; afterwards, a pending registration goes out unless the link is failing or stopped. */
  private run(call: () => Promise<void>): void {
    clearTimeout(this.timer);
    this.busy = call().finally(() => {
      this.busy = undefined;
      if (this.registerPending && (this.state === 'connecting' || this.state === 'registered')) this.registerNow();
    });
  }

  private async register(): Promise<void> {
    const registration = this.options.registration();
    let timing: HeartbeatTiming;
    try {
      timing = await this.options.client.register(registration);
    } catch (err) {
      this.fail(err, 'register');
      return;
    }
    this.mayBeKnown = true;
    await this.forgetPreviousIdentity(registration);
    if (this.state === 'stopped') return;
    const intervalMs = timing.heartbeatIntervalMs > 0 ? timing.heartbeatIntervalMs : DEFAULT_HEARTBEAT_INTERVAL_MS;
    const fields = { topics: registration.topics.length, heartbeatIntervalMs: intervalMs, failedAttempts: this.failures };
    if (this.state === 'registered') this.options.logger.debug(fields, 're-registered with nameserver');
    else this.options.logger.info(fields, 'registered with nameserver');
    this.state = 'registered';
    this.failures = 0;
    this.options.metrics.registrations.inc(this.labels);
    this.options.metrics.nameserverRegistered.set(this.labels, 1);
    this.schedule(intervalMs, () => this.run(() => this.heartbeat(intervalMs)));
  }

  /**
   * The broker registered under another id or address before (its role changed: a slave
   * promoted registers as 0): remove that entry now rather than at its eviction. A failure is
   * logged; the nameserver evicts the entry in time. A former master's entry (id 0) is left
   * alone: the next master's registration replaces it, and may already have (with a shared
   * serviceAddress, the very same id and address).
   */
  private async forgetPreviousIdentity(now: NameServerRegistration): Promise<void> {
    const before = this.registeredAs;
    this.registeredAs = { brokerId: now.brokerId, address: now.address };
    if (before === undefined || before.brokerId === 0 || (before.brokerId === now.brokerId && before.address === now.address)) return;
    try {
      await this.options.client.unregister({ brokerName: now.brokerName, ...before });
      this.options.logger.info({ from: before, to: this.registeredAs }, 're-registered under a new id or address');
    } catch (err) {
      this.options.logger.warn({ from: before, error: errorText(err) }, 'unregistering the previous id failed; the nameserver will evict it');
    }
  }

  private async heartbeat(intervalMs: number): Promise<void> {
    const { brokerName, brokerId, address } = this.options.registration();
    let reregister: boolean;
    try {
      ({ reregister } = await this.options.client.heartbeat({ brokerName, brokerId, address }));
    } catch (err) {
      this.fail(err, 'heartbeat');
      return;
    }
    if (this.state === 'stopped') return;
    if (!reregister) {
      this.schedule(intervalMs, () => this.run(() => this.heartbeat(intervalMs)));
      return;
    }
    this.options.logger.info({}, 'nameserver asked to re-register');
    this.state = 'connecting';
    this.mayBeKnown = false;
    this.options.metrics.nameserverRegistered.set(this.labels, 0);
    this.registerPending = true; // run() sends it once this call has ended
  }

  /** Logs the first failure of a streak (later ones at debug) and retries the registration after a back-off. */
  private fail(err: unknown, during: 'register' | 'heartbeat'): void {
    if (this.state === 'stopped') return;
    this.failures += 1;
    const { initialMs, maxMs } = this.options.retry;
    const retryInMs = Math.min(maxMs, initialMs * 2 ** Math.min(this.failures - 1, 30));
    const fields = { during, error: errorText(err), failedAttempts: this.failures, retryInMs };
    if (this.state === 'failing') this.options.logger.debug(fields, 'nameserver still failing');
    else this.options.logger.warn(fields, 'nameserver failing');
    this.state = 'failing';
    this.options.metrics.nameserverRegistered.set(this.labels, 0);
    this.schedule(retryInMs, () => this.registerNow());
  }

  /** One timer at a time; unref'd, so a link never keeps the process alive. */
  private schedule(delayMs: number, action: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(action, delayMs);
    this.timer.unref();
  }
}

/** A gRPC error's code and message, short enough for one log line. */
function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
