/**
 * The FIFO part of SendMessage on a broker that knows nameservers: for each FIFO message, store
 * here or forward to the owner of its message group (fifo-owner.ts decides, broker-forwarder.ts
 * carries), and the owners' entries for the forwarded ones.
 *
 * - A message whose owner queue is ours is stored here in that queue (`here` with ownerQueueId).
 * - A message whose owner is another broker is forwarded with `system_properties.queue_id` set to
 *   the owner queue, all of one owner in one request, in request order.
 * - A call forwarded by another broker (isForwardedCall) is always stored here, in the queue the
 *   forwarder named, and never forwarded again: at most one hop, whatever the views say.
 * - No route (or the topic only here) → `here` without a queue: the local hash picks, as before.
 */
import type { Metadata } from '@grpc/grpc-js';
import type { BrokerForwarder, ForwardTarget } from './broker-forwarder';
import type { FifoOwners } from './fifo-owner';
import type { WireMessage, WireSendResultEntry } from './v2-wire';

/** One FIFO message of a request. */
export interface FifoSend {
  readonly topic: string;
  readonly messageGroup: string;
  readonly wire: WireMessage;
}

/** Forward `wire` (naming the owner queue) to `target`. */
export interface ForwardDecision {
  readonly kind: 'forward';
  readonly target: ForwardTarget;
  readonly wire: WireMessage;
}

export type FifoDecision =
  /** Store here; in `ownerQueueId` when given (and writable here), else the local pick. */
  | { readonly kind: 'here'; readonly ownerQueueId?: number }
  | ForwardDecision;

export class FifoRouter {
  constructor(
    private readonly owners: Pick<FifoOwners, 'placementOf'>,
    private readonly forwarder: Pick<BrokerForwarder, 'forward'>,
  ) {}

  async decide(send: FifoSend, forwardedCall: boolean): Promise<FifoDecision> {
    if (forwardedCall) return { kind: 'here', ownerQueueId: send.wire.system_properties?.queue_id ?? 0 };
    const placement = await this.owners.placementOf(send.topic, send.messageGroup);
    if (placement.kind === 'local') return { kind: 'here', ownerQueueId: placement.queueId };
    if (placement.kind === 'local-pick') return { kind: 'here' };
    const { brokerName, address, queueId } = placement;
    const wire = { ...send.wire, system_properties: { ...send.wire.system_properties, queue_id: queueId } };
    return { kind: 'forward', target: { brokerName, address }, wire };
  }

  /**
   * Forwards messages (keyed by request position), one request per owner in request order, all
   * owners at once: request position → the owner's entry, or the error that failed the forward.
   */
  async forwardAll(decisions: ReadonlyMap<number, ForwardDecision>, caller?: Metadata): Promise<Map<number, WireSendResultEntry | Error>> {
    const byOwner = new Map<string, { target: ForwardTarget; slots: number[]; wires: WireMessage[] }>();
    for (const [slot, decision] of [...decisions].sort(([a], [b]) => a - b)) {
      const key = `${decision.target.brokerName}\n${decision.target.address}`;
      let batch = byOwner.get(key);
      if (batch === undefined) byOwner.set(key, (batch = { target: decision.target, slots: [], wires: [] }));
      batch.slots.push(slot);
      batch.wires.push(decision.wire);
    }
    const results = new Map<number, WireSendResultEntry | Error>();
    await Promise.all(
      [...byOwner.values()].map(async ({ target, slots, wires }) => {
        try {
          const entries = await this.forwarder.forward(target, wires, caller);
          slots.forEach((slot, k) => results.set(slot, entries[k]));
        } catch (error) {
          for (const slot of slots) results.set(slot, error instanceof Error ? error : new Error(String(error)));
        }
      }),
    );
    return results;
  }
}
