/**
 * Forwards FIFO messages to the broker that owns their message group (fifo-owner.ts), with the
 * same apache.rocketmq.v2 SendMessage the clients use, so the owner needs no second API.
 *
 * - The call carries `x-apogee-forwarded: 1` (FORWARDED_HEADER). A broker receiving it stores
 *   the messages itself and never forwards them again, even when its own view of the route
 *   names yet another owner: a message travels at most one hop, so views that disagree while
 *   routes change cannot make a loop. Each forwarded message names the owner queue the sender
 *   chose in `system_properties.queue_id`; the owner keeps it when it is one of its writable
 *   queues (send-message.handler.ts, QueuePicker).
 * - The caller's `x-mq-client-id` and `x-mq-namespace` go along, so the owner sees who sent.
 * - The owner's entries (status, message_id, offset, transaction_id, recall_handle) answer the
 *   client unchanged, one per message, in request order; one request per owner keeps the
 *   messages' order.
 * - A forward that fails (owner unreachable, deadline, a malformed answer) fails its messages with
 *   FIFO_OWNER_UNAVAILABLE (v2 PROXY_TIMEOUT, retriable: the SDKs resend a failed send) naming
 *   the owner. They are never stored here instead: that would split the group over two queues.
 * - One grpc-js channel per owner address, kept open and reused (at most MAX_CHANNELS, the least
 *   recently used closed first: a restarted broker may come back at a new address), reconnecting
 *   within RECONNECT_BACKOFF_MAX_MS once an owner is back; close() closes them all (shutdown).
 */
import * as grpc from '@grpc/grpc-js';
import { ApogeeError, loadMessagingService } from '@apogee/protocol';
import { CLIENT_ID_HEADER } from './v2-unary';
import type { WireMessage, WireSendMessageResponse, WireSendResultEntry } from './v2-wire';

/** Marks a SendMessage as forwarded by a broker: the receiver stores and never forwards again. */
export const FORWARDED_HEADER = 'x-apogee-forwarded';
/** Names the forwarding broker (logging only). */
export const FORWARDED_BY_HEADER = 'x-apogee-forwarded-by';
const NAMESPACE_HEADER = 'x-mq-namespace';
/** Inside the SDKs' own 3 s SendMessage deadline (doc §1.7), so the client hears our answer. */
export const FORWARD_TIMEOUT_MS = 2_000;
/** Channels to other brokers kept open at most. */
export const MAX_CHANNELS = 64;
/** grpc-js backs off up to 120 s between reconnects by default; an owner back must be reached sooner. */
const RECONNECT_BACKOFF_INITIAL_MS = 200;
const RECONNECT_BACKOFF_MAX_MS = 2_000;

/** True when the call was forwarded by another broker (carries FORWARDED_HEADER). */
export function isForwardedCall(metadata: grpc.Metadata | undefined): boolean {
  return metadata?.get(FORWARDED_HEADER).some((value) => String(value) === '1') ?? false;
}

/** The owner a forward goes to. */
export interface ForwardTarget {
  readonly brokerName: string;
  readonly address: string;
}

export interface BrokerForwarderOptions {
  /** This broker's name, sent in FORWARDED_BY_HEADER. */
  readonly brokerName: string;
  readonly timeoutMs?: number;
}

type SendMessageCall = (
  request: { messages: WireMessage[] },
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: WireSendMessageResponse) => void,
) => void;

export class BrokerForwarder {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly timeoutMs: number;
  private closed = false;

  constructor(private readonly options: BrokerForwarderOptions) {
    this.timeoutMs = options.timeoutMs ?? FORWARD_TIMEOUT_MS;
  }

  /**
   * Sends `messages` (in order) to the owner as one forwarded SendMessage; resolves with the
   * owner's entry for each, or throws FIFO_OWNER_UNAVAILABLE naming the owner.
   */
  async forward(target: ForwardTarget, messages: readonly WireMessage[], caller?: grpc.Metadata): Promise<WireSendResultEntry[]> {
    let response: WireSendMessageResponse;
    try {
      response = await this.call(target.address, [...messages], this.metadataFor(caller));
    } catch (err) {
      throw unavailable(target, (err as { details?: string }).details ?? (err as Error).message, err);
    }
    const entries = response.entries ?? [];
    if (entries.length === messages.length) return entries;
    if (entries.length === 0 && response.status !== undefined && response.status.code !== 'OK') {
      // the owner refused the whole request (one status, no entries): every message gets it
      return messages.map((message) => ({
        status: response.status,
        message_id: message.system_properties?.message_id ?? '',
        transaction_id: '',
        offset: '0',
      }));
    }
    throw unavailable(target, `it answered ${entries.length} entries for ${messages.length} messages`);
  }

  /** Closes every channel; later forwards fail. */
  close(): void {
    this.closed = true;
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private call(address: string, messages: WireMessage[], metadata: grpc.Metadata): Promise<WireSendMessageResponse> {
    const client = this.clientFor(address);
    const send = (client as unknown as { SendMessage: SendMessageCall }).SendMessage.bind(client);
    return new Promise((resolve, reject) => {
      send({ messages }, metadata, { deadline: Date.now() + this.timeoutMs }, (err, response) =>
        err !== null || response === undefined ? reject(err ?? new Error('no response')) : resolve(response),
      );
    });
  }

  private clientFor(address: string): grpc.Client {
    if (this.closed) throw new Error('the broker is shutting down');
    let client = this.clients.get(address);
    if (client !== undefined) {
      this.clients.delete(address); // most recently used goes last
    } else {
      const Client = loadMessagingService();
      client = new Client(address, grpc.credentials.createInsecure(), {
        'grpc.initial_reconnect_backoff_ms': RECONNECT_BACKOFF_INITIAL_MS,
        'grpc.max_reconnect_backoff_ms': RECONNECT_BACKOFF_MAX_MS,
      });
    }
    this.clients.set(address, client);
    while (this.clients.size > MAX_CHANNELS) {
      const [oldest, channel] = this.clients.entries().next().value as [string, grpc.Client];
      channel.close();
      this.clients.delete(oldest);
    }
    return client;
  }

  private metadataFor(caller: grpc.Metadata | undefined): grpc.Metadata {
    const metadata = new grpc.Metadata();
    for (const header of [CLIENT_ID_HEADER, NAMESPACE_HEADER]) {
      const value = caller?.get(header)[0];
      if (value !== undefined) metadata.set(header, String(value));
    }
    if (metadata.get(CLIENT_ID_HEADER).length === 0) metadata.set(CLIENT_ID_HEADER, `broker@${this.options.brokerName}`);
    metadata.set(FORWARDED_HEADER, '1');
    metadata.set(FORWARDED_BY_HEADER, this.options.brokerName);
    return metadata;
  }
}

function unavailable(target: ForwardTarget, reason: string, cause?: unknown): ApogeeError {
  return new ApogeeError(
    'FIFO_OWNER_UNAVAILABLE',
    `The message group belongs to broker ${target.brokerName} (${target.address}); forwarding to it failed: ${reason}. ` +
      'Nothing was stored here, to keep the group in order; send again',
    { cause },
  );
}
