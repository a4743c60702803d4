/**
 * Broadcasting (GroupConfig.broadcast): every client of the group receives every message. RocketMQ 5
 * clients have no broadcasting switch of their own, so the broker decides from the group's config
 * and keeps the POP state of such a group per client: under the state key `<group>#<clientId>`
 * (the client id is the call's `x-mq-client-id`). PopConsumption, ConsumerOffsets and InflightStore
 * see the state key as the QueueRef's group and are unchanged; each client so has its own
 * positions, in-flight messages, invisibility and acks, durable like a normal group's.
 *
 * - `#` cannot occur in a group name (^[%|a-zA-Z0-9_-]+$), so a state key never names a real
 *   group and the group is everything before the first `#`; the client id needs no escaping,
 *   since the MetaTable keys of queue-ref.ts are JSON arrays. No group is created for a state key.
 * - A receipt handle does not name its group: it is found only under the state key of the client
 *   that received it, so an ack from another client id answers INVALID_RECEIPT_HANDLE.
 * - Start: a client's first ReceiveMessage on a queue sets its position to the queue's end, like
 *   RocketMQ's broadcasting default CONSUME_FROM_LAST_OFFSET: messages stored before a client
 *   first asks are not delivered to it (for a new, empty topic that is its start) — unless a
 *   ResetOffset set the group's start for new clients (below). A client id seen before resumes
 *   where it was, across broker restarts.
 * - Pull consumers: GetOffset and UpdateOffset read and commit the calling client's own offset
 *   (its state key), as each RocketMQ broadcasting consumer keeps its own offsets; PullMessage and
 *   QueryOffset read no group state and so need nothing per client.
 * - ResetOffset (admin/offset-admin.ts) moves every client that has a position on the topic, and,
 *   since the Node and Java clients get a new id per process start, also stores the target as the
 *   group's start for new clients (under the plain group name, which a broadcast group never pops
 *   under; consumer/broadcast-positions.ts): "replay from T" then reaches consumers restarted after
 *   the reset too, as users of RocketMQ's reset expect of a group. It stays until the next reset;
 *   a reset to LATEST removes it, so new clients start at the end again. RocketMQ itself resets
 *   only the broadcasting clients online at the time (their offsets live in the clients).
 * - GroupProgress (admin/group-progress.ts) answers one row per client and queue, with the client
 *   id; the group's start for new clients is not a row.
 * - Dead letters of every client go to the group's own %DLQ%<group> (groupOfStateKey).
 * - A client that never comes back leaves its positions and in-flight records behind (a few
 *   bytes per queue), which GroupProgress keeps listing and ResetOffset keeps moving; removing
 *   them is not implemented. The Node and Java clients make a new
 *   client id per process start (hostname@pid@index@time), so a restarted consumer process is a
 *   new client and starts at the end.
 */
import { ApogeeError } from '@apogee/protocol';
import type { GroupConfig } from '../metadata/group-config';

export const BROADCAST_KEY_SEPARATOR = '#';

/** The POP state key of one client of a broadcast group. */
export function broadcastStateKey(group: string, clientId: string): string {
  return `${group}${BROADCAST_KEY_SEPARATOR}${clientId}`;
}

/** What handle-carrying calls (ack, change invisibility, dead-letter) need of the group registry. */
export interface BroadcastGroups {
  get(name: string): Pick<GroupConfig, 'name' | 'broadcast'> | undefined;
}

/**
 * The state key a call with a receipt handle acts under, and a wrapper that explains, for a
 * broadcast group, why another client's handle is refused. Unknown groups act under their name
 * (PopConsumption then finds no in-flight record).
 */
export function handleScopeOf(groups: BroadcastGroups, group: string, clientId: string): { stateGroup: string; explain: (err: unknown) => unknown } {
  const config = groups.get(group);
  if (config?.broadcast !== true) return { stateGroup: group, explain: (err) => err };
  const explain = (err: unknown): unknown =>
    err instanceof ApogeeError && ['RECEIPT_HANDLE_STALE', 'RECEIPT_HANDLE_EXPIRED', 'INVALID_RECEIPT_HANDLE'].includes(err.code)
      ? new ApogeeError(
          err.code,
          `${err.message}. Group ${JSON.stringify(group)} is a broadcast group: a receipt handle is valid only for the client ` +
            `that received the message, and this call's client id is ${JSON.stringify(clientId)}`,
          { cause: err },
        )
      : err;
  return { stateGroup: broadcastStateKey(group, clientId), explain };
}

/** The group whose POP state a consumer call reads and writes: per client for a broadcast group. */
export function stateGroupOf(group: Pick<GroupConfig, 'name' | 'broadcast'>, clientId: string): string {
  return group.broadcast ? broadcastStateKey(group.name, clientId) : group.name;
}

/** The real group of a state key (itself for a normal group). */
export function groupOfStateKey(key: string): string {
  const at = key.indexOf(BROADCAST_KEY_SEPARATOR);
  return at < 0 ? key : key.slice(0, at);
}

/** The client id of a broadcast state key; undefined for a normal group. */
export function clientOfStateKey(key: string): string | undefined {
  const at = key.indexOf(BROADCAST_KEY_SEPARATOR);
  return at < 0 ? undefined : key.slice(at + 1);
}
