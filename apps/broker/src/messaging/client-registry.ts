/**
 * The clients this broker knows, keyed by their `x-mq-client-id` header: what their last
 * Settings said and when they were last heard from (Settings, Heartbeat). Telemetry streams
 * register here, with a way to send the client commands (transaction checks go to a producer
 * whose Settings listed the topic, doc §3.2); NotifyClientTermination forgets the client. In
 * memory only: clients resend Settings whenever they reconnect.
 */
import type { Clock } from '@apogee/runtime';
import type { WireSettings, WireTelemetryCommand } from './v2-wire';

/** Writes a command on a client's open Telemetry stream; false when the stream is no longer writable. */
export type TelemetrySender = (command: WireTelemetryCommand) => boolean;

export interface KnownClient {
  readonly clientId: string;
  clientType: string;
  settings: WireSettings | undefined;
  lastSeenMs: number;
}

export class ClientRegistry {
  private readonly clients = new Map<string, KnownClient>();
  private readonly streams = new Map<string, TelemetrySender>();
  private nextProducer = 0;

  constructor(private readonly clock: Clock) {}

  /** The consumers whose last Settings named `group`, by client id. */
  consumersOf(group: string): KnownClient[] {
    return [...this.clients.values()]
      .filter((c) => c.settings?.subscription?.group?.name === group)
      .sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
  }

  get(clientId: string): KnownClient | undefined {
    return this.clients.get(clientId);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Records a client's Settings (from its Telemetry stream). */
  recordSettings(clientId: string, settings: WireSettings): KnownClient {
    const client = this.touch(clientId, settings.client_type ?? 'CLIENT_TYPE_UNSPECIFIED');
    client.settings = settings;
    return client;
  }

  /** Refreshes the client's liveness (Heartbeat), registering it if it is new. */
  touch(clientId: string, clientType: string): KnownClient {
    const now = this.clock.now();
    const known = this.clients.get(clientId);
    if (known !== undefined) {
      known.lastSeenMs = now;
      if (clientType !== 'CLIENT_TYPE_UNSPECIFIED') known.clientType = clientType;
      return known;
    }
    const client: KnownClient = { clientId, clientType, settings: undefined, lastSeenMs: now };
    this.clients.set(clientId, client);
    return client;
  }

  /** Forgets every client not heard from (Settings, Heartbeat) for `silentMs`; returns their ids. */
  evictSilent(silentMs: number): string[] {
    const cutoff = this.clock.now() - silentMs;
    const gone = [...this.clients.values()].filter((c) => c.lastSeenMs < cutoff).map((c) => c.clientId);
    for (const clientId of gone) this.remove(clientId);
    return gone;
  }

  /** Forgets the client (NotifyClientTermination); false when it was not known. */
  remove(clientId: string): boolean {
    this.streams.delete(clientId);
    return this.clients.delete(clientId);
  }

  /** The client's Telemetry stream opened (a newer one replaces an older); call the result when it closes. */
  attachTelemetry(clientId: string, send: TelemetrySender): () => void {
    this.streams.set(clientId, send);
    return () => {
      if (this.streams.get(clientId) === send) this.streams.delete(clientId);
    };
  }

  /**
   * Sends `command` to one live producer whose Settings list `topic` in publishing.topics,
   * taking them in turn; false when no such producer has an open stream.
   */
  sendToProducerOf(topic: string, command: WireTelemetryCommand): boolean {
    const candidates: TelemetrySender[] = [];
    for (const [clientId, send] of this.streams) {
      const client = this.clients.get(clientId);
      if (client?.clientType !== 'PRODUCER') continue;
      if (client.settings?.publishing?.topics?.some((t) => t.name === topic)) candidates.push(send);
    }
    for (let tried = 0; tried < candidates.length; tried++) {
      const send = candidates[this.nextProducer++ % candidates.length];
      if (send(command)) return true;
    }
    return false;
  }
}
