import path from 'node:path';
import { Permission } from '@apogee/routing';
import { MetadataStore } from '@apogee/storage';
import { waitFor } from '@apogee/testing';
import { gatedFileSystem, silentLogger, useTempMetadata } from '../../test/metadata-fixture';
import { TOPICS_TABLE, TopicRegistry } from './topic-registry';

const meta = useTempMetadata();

describe('TopicRegistry', () => {
  it('creates a topic with the defaults: 8 read and 8 write queues, READ_WRITE, NORMAL', async () => {
    const { topics } = await meta.open();
    const created = await topics.create({ name: 'orders' });
    expect(created).toEqual({
      name: 'orders',
      readQueueCount: 8,
      writeQueueCount: 8,
      permission: Permission.READ_WRITE,
      messageType: 'NORMAL',
    });
    expect(topics.get('orders')).toEqual(created);
    expect(topics.require('orders')).toEqual(created);
  });

  it('keeps topics, changes and deletions across a reopen', async () => {
    let metadata = await meta.open();
    await metadata.topics.create({ name: 'a', messageType: 'FIFO', readQueueCount: 2, writeQueueCount: 2 });
    await metadata.topics.create({ name: 'b', messageType: 'DELAY' });
    await metadata.topics.create({ name: 'c' });
    await metadata.topics.update('b', { writeQueueCount: 4 });
    await metadata.topics.delete('c');
    const before = metadata.topics.list();

    metadata = await meta.reopen(metadata);
    expect(metadata.topics.list()).toEqual(before);
    expect(metadata.topics.list().map((t) => t.name)).toEqual(['a', 'b']);
    expect(metadata.topics.get('b')).toMatchObject({ readQueueCount: 8, writeQueueCount: 4, messageType: 'DELAY' });
    expect(metadata.topics.get('c')).toBeUndefined();
  });

  it('lists topics sorted by name', async () => {
    const { topics } = await meta.open();
    for (const name of ['zeta', 'Alpha', 'beta', 'alpha']) await topics.create({ name });
    expect(topics.list().map((t) => t.name)).toEqual(['Alpha', 'alpha', 'beta', 'zeta']);
    expect(topics.size).toBe(4);
  });

  it('refuses a second topic of the same name, also when both creates race', async () => {
    const { topics } = await meta.open();
    await topics.create({ name: 'orders', messageType: 'FIFO' });
    await expect(topics.create({ name: 'orders' })).rejects.toMatchObject({
      code: 'TOPIC_EXISTS',
      message: expect.stringContaining('"orders" already exists (FIFO'),
    });
    const raced = await Promise.allSettled([topics.create({ name: 'x' }), topics.create({ name: 'x' })]);
    expect(raced.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it.each([
    [{ name: '' }, 'INVALID_TOPIC_NAME', 'Topic name is empty'],
    [{ name: 'bad name' }, 'INVALID_TOPIC_NAME', 'illegal character " " at index 3'],
    [{ name: 'x'.repeat(128) }, 'INVALID_TOPIC_NAME', 'at most 127'],
    [{ name: 'rmq_sys_mine' }, 'RESERVED_TOPIC', 'reserved'],
    [{ name: '%RETRY%g' }, 'RESERVED_TOPIC', 'reserved'],
    [{ name: 't', readQueueCount: 0 }, 'INVALID_QUEUE_COUNT', 'read queue count 0'],
    [{ name: 't', writeQueueCount: 1025 }, 'INVALID_QUEUE_COUNT', 'from 1 to 1024'],
    [{ name: 't', permission: 99 }, 'INVALID_PERMISSION', 'not a PermName bit set'],
  ])('refuses %j with %s', async (input, code, message) => {
    const { topics } = await meta.open();
    await expect(topics.create(input)).rejects.toMatchObject({ code, message: expect.stringContaining(message) });
    expect(topics.size).toBe(0);
  });

  it('updates only the fields given, and refuses invalid changes without storing them', async () => {
    const { topics } = await meta.open();
    await topics.create({ name: 'orders', messageType: 'FIFO' });
    const updated = await topics.update('orders', { readQueueCount: 16, writeQueueCount: 16, permission: Permission.READ });
    expect(updated).toEqual({
      name: 'orders',
      readQueueCount: 16,
      writeQueueCount: 16,
      permission: Permission.READ,
      messageType: 'FIFO',
    });
    await expect(topics.update('orders', { writeQueueCount: 0 })).rejects.toMatchObject({ code: 'INVALID_QUEUE_COUNT' });
    expect(topics.get('orders')).toEqual(updated);
    expect(await topics.update('orders', { messageType: 'NORMAL' })).toMatchObject({ messageType: 'NORMAL', readQueueCount: 16 });
  });

  it('answers TOPIC_NOT_FOUND for an unknown topic on get, update and delete', async () => {
    const { topics } = await meta.open();
    expect(() => topics.require('nope')).toThrow(expect.objectContaining({ code: 'TOPIC_NOT_FOUND' }));
    await expect(topics.update('nope', { readQueueCount: 2 })).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND' });
    await expect(topics.delete('nope')).rejects.toMatchObject({
      code: 'TOPIC_NOT_FOUND',
      message: expect.stringContaining('"nope" does not exist'),
    });
  });

  it('resolves a create only after its fdatasync, and shows the topic only then', async () => {
    const gated = gatedFileSystem();
    const store = await MetadataStore.open(path.join(meta.dataDir(), 'gated'), { fs: gated.fs });
    try {
      const topics = new TopicRegistry(await store.table(TOPICS_TABLE), { autoCreateTopics: false, logger: silentLogger });
      gated.hold();
      let settled = false;
      const creating = topics.create({ name: 'orders' }).finally(() => (settled = true));
      await waitFor(() => gated.held() > 0, { what: 'the fdatasync of the create' });
      expect(settled).toBe(false);
      expect(topics.get('orders')).toBeUndefined();
      gated.release();
      await expect(creating).resolves.toMatchObject({ name: 'orders' });
      expect(topics.get('orders')).toMatchObject({ name: 'orders' });
    } finally {
      gated.release();
      await store.close();
    }
  });
});

describe('TopicRegistry.ensureTopicForSend', () => {
  it('returns a known topic of the same message type', async () => {
    const { topics } = await meta.open();
    await topics.create({ name: 'orders', messageType: 'FIFO' });
    await expect(topics.ensureTopicForSend('orders', 'FIFO')).resolves.toMatchObject({ name: 'orders' });
  });

  it('answers TOPIC_NOT_FOUND, saying how to fix it, when auto-create is off', async () => {
    const { topics } = await meta.open({ autoCreateTopics: false });
    await expect(topics.ensureTopicForSend('orders', 'NORMAL')).rejects.toMatchObject({
      code: 'TOPIC_NOT_FOUND',
      message: expect.stringMatching(/"orders" does not exist.*apogee topic create orders --type NORMAL.*autoCreateTopics/),
    });
    expect(topics.size).toBe(0);
  });

  it('auto-creates an unknown topic once, with the type of the first send, durably', async () => {
    let metadata = await meta.open({ autoCreateTopics: true });
    const sends = await Promise.all([1, 2, 3].map(() => metadata.topics.ensureTopicForSend('delayed', 'DELAY')));
    expect(new Set(sends).size).toBe(1);
    expect(sends[0]).toEqual({
      name: 'delayed',
      readQueueCount: 8,
      writeQueueCount: 8,
      permission: Permission.READ_WRITE,
      messageType: 'DELAY',
    });
    metadata = await meta.reopen(metadata, { autoCreateTopics: false });
    expect(metadata.topics.get('delayed')).toEqual(sends[0]);
  });

  it('refuses a message of another type, naming both types', async () => {
    const { topics } = await meta.open({ autoCreateTopics: true });
    await topics.create({ name: 'orders', messageType: 'FIFO' });
    await expect(topics.ensureTopicForSend('orders', 'NORMAL')).rejects.toMatchObject({
      code: 'MESSAGE_TYPE_MISMATCH',
      message: expect.stringMatching(/"orders" accepts FIFO messages, but this message is NORMAL/),
    });
  });

  it('refuses a topic without WRITE permission', async () => {
    const { topics } = await meta.open();
    await topics.create({ name: 'frozen', permission: Permission.READ });
    await expect(topics.ensureTopicForSend('frozen', 'NORMAL')).rejects.toMatchObject({
      code: 'TOPIC_NOT_WRITABLE',
      message: expect.stringContaining('permission is R--'),
    });
  });

  it('refuses bad and reserved names even with auto-create on, and sends to reserved topics', async () => {
    const { topics } = await meta.open({ autoCreateTopics: true });
    await expect(topics.ensureTopicForSend('a b', 'NORMAL')).rejects.toMatchObject({ code: 'INVALID_TOPIC_NAME' });
    await expect(topics.ensureTopicForSend('TBW102', 'NORMAL')).rejects.toMatchObject({ code: 'RESERVED_TOPIC' });
    await topics.create({ name: '%DLQ%group' }, { allowReserved: true }); // as the broker itself will
    await expect(topics.ensureTopicForSend('%DLQ%group', 'NORMAL')).rejects.toMatchObject({ code: 'RESERVED_TOPIC' });
    expect(topics.list().map((t) => t.name)).toEqual(['%DLQ%group']);
  });

  it('tells change listeners of durable changes only, until they unsubscribe', async () => {
    const { topics } = await meta.open({ autoCreateTopics: true });
    const seen: string[] = [];
    const unsubscribe = topics.onChange(({ kind, topic }) => seen.push(`${kind} ${topic.name} ${topic.writeQueueCount}`));
    topics.onChange(() => {
      throw new Error('a broken listener changes nothing');
    });
    await topics.create({ name: 'orders' });
    await topics.update('orders', { writeQueueCount: 8 }); // unchanged: no event
    await topics.update('orders', { writeQueueCount: 4 });
    await topics.ensureTopicForSend('auto', 'NORMAL');
    await topics.ensureTopicForSend('auto', 'NORMAL'); // exists: no event
    await expect(topics.create({ name: 'orders' })).rejects.toMatchObject({ code: 'TOPIC_EXISTS' });
    await topics.delete('orders');
    unsubscribe();
    await topics.create({ name: 'unheard' });
    expect(seen).toEqual(['created orders 8', 'updated orders 4', 'created auto 8', 'deleted orders 4']);
  });
});
