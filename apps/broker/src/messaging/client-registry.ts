/**
 * The clients this broker knows, keyed by their `x-mq-client-id` header: what their last
 * Settings said and when they were last heard from (Settings, Heartbeat). Telemetry streams
 * register here; NotifyClientTermination forgets the client. In memory only: clients resend
 * Settings whenever they reconnect.
 */
import type { Clock } from '@apogee/runtime';
import type { WireSettings } from './v2-wire';

export interface KnownClient {
  readonly clientId: string;
  clientType: string;
  settings: WireSettings | undefined;
  lastSeenMs: number;
}

export class ClientRegistry {
  private readonly clients = new Map<string, KnownClient>();

  constructor(private readonly clock: Clock) {}

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

  /** Forgets the client (NotifyClientTermination); false when it was not known. */
  remove(clientId: string): boolean {
    return this.clients.delete(clientId);
  }
}
