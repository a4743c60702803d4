/**
 * Which local queue a send lands in. The client's queue_id is ignored (doc §3.5: Node always
 * names queue 0): FIFO messages hash their message group over the topic's writable queues (the
 * choice RocketMQ 5's proxy makes), everything else goes round-robin per topic. A FIFO message
 * whose group's owner queue was chosen over the topic's whole route (fifo-owner.ts) keeps that
 * queue when it is one of ours and writable; else the local hash decides.
 */
import { ApogeeError } from '@apogee/protocol';
import { isWritable, queuesOf, selectQueueForMessageGroup, selectQueueRoundRobin, type TopicConfig } from '@apogee/routing';

export class QueuePicker {
  private readonly counters = new Map<string, number>();

  constructor(private readonly brokerName: string) {}

  /**
   * The queue id for a send to `topic`: `ownerQueueId` when it is a writable queue here, else by
   * `messageGroup` when given, else the next in round-robin.
   */
  pick(topic: TopicConfig, messageGroup?: string, ownerQueueId?: number): number {
    const queues = queuesOf(topic, this.brokerName);
    if (ownerQueueId !== undefined && queues.some((q) => q.queueId === ownerQueueId && isWritable(q.permission))) return ownerQueueId;
    if (messageGroup !== undefined) {
      const selection = selectQueueForMessageGroup(queues, messageGroup);
      if (selection.kind === 'selected') return selection.queue.queueId;
      throw noWritableQueue(topic);
    }
    const selection = selectQueueRoundRobin(queues, this.counters.get(topic.name) ?? 0);
    if (selection.kind !== 'selected') throw noWritableQueue(topic);
    this.counters.set(topic.name, selection.nextCounter);
    return selection.queue.queueId;
  }
}

function noWritableQueue(topic: TopicConfig): ApogeeError {
  return new ApogeeError(
    'TOPIC_NOT_WRITABLE',
    `Topic ${JSON.stringify(topic.name)} has no writable queue on this broker (writeQueueCount ${topic.writeQueueCount}); ` +
      'an operator must give it write queues (UpdateTopic)',
  );
}
