/**
 * QueryAssignment (doc §3.8, §4.8): what a push consumer receives from. Like RocketMQ 5's proxy
 * in POP mode, queues are not split among the group's consumers — every consumer POPs from every
 * queue, and the POP itself hands each message to one of them:
 *
 * - group not FIFO: one assignment per readable master broker of the topic's route, queue id −1
 *   ("all queues of this broker"; ReceiveMessage pops across them anyway);
 * - FIFO group: one assignment per readable queue, with its own id;
 * - nothing readable: FORBIDDEN (TOPIC_NOT_READABLE). An error, not an empty OK, because an empty
 *   OK stops every receive loop of a client that had assignments, while an error leaves them running.
 *
 * The route is the one QueryRoute answers (the nameservers' view, else this broker's topics).
 */
import { ApogeeError, okV2Status } from '@apogee/protocol';
import { MASTER_ID, validateConsumableTopicName } from '@apogee/routing';
import type { GroupRegistry } from '../metadata/group-registry';
import { routeQueues, type QueryRouteDeps } from './query-route.handler';
import type { WireAssignment, WireMessageQueue, WireQueryAssignmentRequest, WireQueryAssignmentResponse } from './v2-wire';

/** Queue id of an assignment meaning "every queue of this broker". */
export const ALL_QUEUES_ID = -1;

export interface QueryAssignmentDeps extends QueryRouteDeps {
  readonly groups: Pick<GroupRegistry, 'ensureGroup'>;
}

export function queryAssignmentHandler(deps: QueryAssignmentDeps) {
  return async (request: WireQueryAssignmentRequest): Promise<WireQueryAssignmentResponse> => {
    const topic = request.topic?.name ?? '';
    validateConsumableTopicName(topic);
    const group = await deps.groups.ensureGroup(request.group?.name ?? '');
    const readable = (await routeQueues(deps, topic)).filter(
      (queue) => queue.broker.id === MASTER_ID && (queue.permission === 'READ' || queue.permission === 'READ_WRITE'),
    );
    if (readable.length === 0) {
      throw new ApogeeError('TOPIC_NOT_READABLE', `Topic ${JSON.stringify(topic)} has no readable queue; check its permission`);
    }
    const assignments = group.fifo ? readable.map(assignmentOf) : perBroker(readable);
    return { status: okV2Status(), assignments };
  };
}

function assignmentOf(queue: WireMessageQueue): WireAssignment {
  return { message_queue: queue };
}

/** One id −1 assignment per broker, in route order. */
function perBroker(queues: readonly WireMessageQueue[]): WireAssignment[] {
  const byBroker = new Map<string, WireMessageQueue>();
  for (const queue of queues) {
    if (!byBroker.has(queue.broker.name)) byBroker.set(queue.broker.name, { ...queue, id: ALL_QUEUES_ID });
  }
  return [...byBroker.values()].map(assignmentOf);
}
