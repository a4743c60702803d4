/**
 * Keeps the broker registered with EVERY configured nameserver: one NameServerLink (its own client,
 * timers and back-off) per nameserver, so losing one changes nothing for the others. Topic changes
 * re-register with all of them after a short debounce; stop() unregisters from all of them at once,
 * waiting at most `unregisterTimeoutMs`, and closes the clients.
 */
import { createNameServerClient, type NameServerRegistration } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';
import type { RegistrationMetrics } from '../metrics';
import { NameServerLink, type RetryBackoff } from './nameserver-link';

export interface RegistrarTiming {
  readonly retry: RetryBackoff;
  /** Topic changes within this window go out as one registration. */
  readonly debounceMs: number;
  /** How long stop() waits for the nameservers' unregister answers. */
  readonly unregisterTimeoutMs: number;
  /** Deadline of each register and heartbeat call. */
  readonly callTimeoutMs: number;
}

export const DEFAULT_REGISTRAR_TIMING: RegistrarTiming = {
  retry: { initialMs: 500, maxMs: 30_000 },
  debounceMs: 100,
  unregisterTimeoutMs: 2_000,
  callTimeoutMs: 3_000,
};

export interface RegistrarOptions {
  /** host:port of each nameserver; empty for a standalone broker. */
  readonly nameservers: readonly string[];
  /** The broker's registration as it is now; called for every attempt. */
  readonly registration: () => NameServerRegistration;
  readonly logger: Logger;
  readonly metrics: RegistrationMetrics;
  readonly timing?: RegistrarTiming;
}

export class NameServerRegistrar {
  private readonly links: NameServerLink[];
  private readonly timing: RegistrarTiming;
  private debounce: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: RegistrarOptions) {
    this.timing = options.timing ?? DEFAULT_REGISTRAR_TIMING;
    this.links = options.nameservers.map((address) => {
      const client = createNameServerClient(address, {
        timeoutMs: this.timing.callTimeoutMs,
        // Reconnect to a nameserver that comes back at least as often as the links retry.
        channelOptions: { 'grpc.max_reconnect_backoff_ms': this.timing.retry.maxMs },
      });
      const logger = options.logger.child({ nameserver: address });
      const { registration, metrics } = options;
      return new NameServerLink({ client, registration, logger, metrics, retry: this.timing.retry });
    });
  }

  /** Registers with every nameserver; each link then heartbeats and recovers on its own. */
  start(): void {
    const { brokerName, brokerId, address } = this.options.registration();
    const fields = { brokerName, brokerId, address, nameservers: this.options.nameservers };
    if (this.links.length === 0) this.options.logger.info(fields, 'no nameservers configured');
    else this.options.logger.info(fields, 'registering with nameservers');
    for (const link of this.links) link.start();
  }

  /** The broker's topics changed: re-register everywhere once the debounce window closes. */
  topicsChanged(): void {
    if (this.stopped !== undefined || this.debounce !== undefined || this.links.length === 0) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      for (const link of this.links) link.refresh();
    }, this.timing.debounceMs);
    this.debounce.unref();
  }

  /** Unregisters from every nameserver (bounded wait), then closes the clients. Idempotent. */
  stop(): Promise<void> {
    return (this.stopped ??= this.unregisterAll());
  }

  private async unregisterAll(): Promise<void> {
    clearTimeout(this.debounce);
    const pending = new Set(this.links.map((link) => link.address));
    const done = Promise.all(this.links.map((link) => link.stop().finally(() => pending.delete(link.address))));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, this.timing.unregisterTimeoutMs, 'timeout')));
    try {
      if ((await Promise.race([done, timeout])) === 'timeout') {
        this.options.logger.warn({ nameservers: [...pending], timeoutMs: this.timing.unregisterTimeoutMs }, 'unregister timed out');
      }
    } finally {
      clearTimeout(timer);
      for (const link of this.links) link.close(); // cancels calls still in flight
    }
  }
}
