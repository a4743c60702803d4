import { Permission } from './permissions';
import {
  acceptedMessageTypes,
  acceptsMessageType,
  createTopicConfig,
  isMessageType,
  MESSAGE_TYPES,
  queueIdCount,
  type TopicConfig,
  validateTopicConfig,
} from './topics';

describe('createTopicConfig', () => {
  it('fills RocketMQ-like defaults and freezes the result', () => {
    const config = createTopicConfig({ name: 'orders' });
    expect(config).toEqual({
      name: 'orders',
      readQueueCount: 8,
      writeQueueCount: 8,
      permission: Permission.READ_WRITE,
      messageType: 'NORMAL',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('keeps what it is given', () => {
    const config = createTopicConfig({
      name: 'fifo',
      readQueueCount: 4,
      writeQueueCount: 2,
      permission: Permission.READ,
      messageType: 'FIFO',
    });
    expect(config).toMatchObject({ readQueueCount: 4, writeQueueCount: 2, permission: 4, messageType: 'FIFO' });
  });

  it('checks the name, with reserved names only when allowed', () => {
    expect(() => createTopicConfig({ name: 'bad name' })).toThrow(expect.objectContaining({ code: 'INVALID_TOPIC_NAME' }));
    expect(() => createTopicConfig({ name: '%DLQ%g' })).toThrow(expect.objectContaining({ code: 'RESERVED_TOPIC' }));
    expect(createTopicConfig({ name: '%DLQ%g', readQueueCount: 1, writeQueueCount: 1 }, { allowReserved: true }).name).toBe(
      '%DLQ%g',
    );
  });

  it.each([0, -1, 1025, 1.5, NaN])('rejects queue count %p with the allowed range', (count) => {
    for (const input of [{ readQueueCount: count }, { writeQueueCount: count }]) {
      expect(() => createTopicConfig({ name: 't', ...input })).toThrow(
        expect.objectContaining({ code: 'INVALID_QUEUE_COUNT', message: expect.stringContaining('from 1 to 1024') }),
      );
    }
  });

  it('accepts the queue count limits', () => {
    expect(() => createTopicConfig({ name: 't', readQueueCount: 1, writeQueueCount: 1024 })).not.toThrow();
  });

  it('rejects bad permissions and message types', () => {
    expect(() => createTopicConfig({ name: 't', permission: 99 })).toThrow(
      expect.objectContaining({ code: 'INVALID_PERMISSION' }),
    );
    const bad = { name: 't', readQueueCount: 1, writeQueueCount: 1, permission: 6, messageType: 'MIXED' };
    expect(() => validateTopicConfig(bad as unknown as TopicConfig)).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE_TYPE', message: expect.stringContaining('NORMAL, FIFO, DELAY, TRANSACTION') }),
    );
  });
});

describe('message types', () => {
  it('accepts exactly the topic type', () => {
    for (const topicType of MESSAGE_TYPES) {
      const topic = createTopicConfig({ name: 't', messageType: topicType });
      expect(acceptedMessageTypes(topic)).toEqual([topicType]);
      for (const type of MESSAGE_TYPES) expect(acceptsMessageType(topic, type)).toBe(type === topicType);
    }
  });

  it('recognises the type names', () => {
    expect(isMessageType('DELAY')).toBe(true);
    expect(isMessageType('delay')).toBe(false);
    expect(isMessageType(undefined)).toBe(false);
  });

  it('counts queue ids as max(read, write)', () => {
    expect(queueIdCount(createTopicConfig({ name: 't', readQueueCount: 4, writeQueueCount: 8 }))).toBe(8);
    expect(queueIdCount(createTopicConfig({ name: 't', readQueueCount: 16, writeQueueCount: 8 }))).toBe(16);
  });
});
