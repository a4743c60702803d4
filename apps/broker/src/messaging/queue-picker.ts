/**
 * Which local queue a send lands in. The client's queue_id is ignored (doc §3.5: Node always
 * names queue 0): FIFO messages hash their message group over the topic's writable queues (the
 * choice RocketMQ 5's proxy makes), everything else goes round-robin per topic.
 */
import { ApogeeError } from '@apogee/protocol';
import { queuesOf, selectQueueForMessageGroup, selectQueueRoundRobin, type TopicConfig } from '@apogee/routing';

export class QueuePicker {
  private readonly counters = new Map<string, number>();

  constructor(private readonly brokerName: string) {}

  /** The queue id for a send to `topic`: by `messageGroup` when given, else the next in round-robin. */
  pick(topic: TopicConfig, messageGroup?: string): number {
    const queues = queuesOf(topic, this.brokerName);
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
