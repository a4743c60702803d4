import { useTempMetadata } from '../../test/metadata-fixture';

const meta = useTempMetadata();

describe('GroupRegistry', () => {
  it('creates, updates, lists and deletes groups, and keeps them across a reopen', async () => {
    let metadata = await meta.open();
    const { groups } = metadata;
    await groups.create({ name: 'payments', fifo: true, maxDeliveryAttempts: 5 });
    await groups.create({ name: 'audit' });
    await groups.create({ name: 'gone' });
    const updated = await groups.update('audit', { retryPolicy: { kind: 'CUSTOMIZED', backoffMs: [1_000, 10_000] } });
    expect(updated).toMatchObject({
      fifo: false,
      maxDeliveryAttempts: 17,
      retryPolicy: { kind: 'CUSTOMIZED', backoffMs: [1_000, 10_000] },
    });
    await expect(groups.delete('gone')).resolves.toMatchObject({ name: 'gone' });
    const before = groups.list();
    expect(before.map((g) => g.name)).toEqual(['audit', 'payments']);

    metadata = await meta.reopen(metadata);
    expect(metadata.groups.list()).toEqual(before);
    expect(metadata.groups.require('payments')).toMatchObject({ fifo: true, maxDeliveryAttempts: 5 });
    expect(metadata.groups.get('gone')).toBeUndefined();
  });

  it('updates only the fields given and refuses invalid changes without storing them', async () => {
    const { groups } = await meta.open();
    const created = await groups.create({ name: 'g', fifo: true });
    expect(await groups.update('g', { maxDeliveryAttempts: 3 })).toEqual({ ...created, maxDeliveryAttempts: 3 });
    await expect(groups.update('g', { maxDeliveryAttempts: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(groups.get('g')).toEqual({ ...created, maxDeliveryAttempts: 3 });
  });

  it('keeps broadcast durable and refuses to switch it on an existing group', async () => {
    let metadata = await meta.open();
    await metadata.groups.create({ name: 'fanout', broadcast: true });
    await metadata.groups.create({ name: 'plain' });
    metadata = await meta.reopen(metadata);
    expect(metadata.groups.require('fanout')).toMatchObject({ broadcast: true });
    expect(metadata.groups.require('plain')).toMatchObject({ broadcast: false });
    await expect(metadata.groups.update('fanout', { broadcast: false })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('broadcast cannot be changed (it is true)'),
    });
    await expect(metadata.groups.update('plain', { broadcast: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(metadata.groups.update('fanout', { broadcast: true, maxDeliveryAttempts: 2 })).resolves.toMatchObject({
      broadcast: true,
      maxDeliveryAttempts: 2,
    });
  });

  it('answers GROUP_EXISTS, GROUP_NOT_FOUND and name errors', async () => {
    const { groups } = await meta.open();
    await groups.create({ name: 'g' });
    await expect(groups.create({ name: 'g' })).rejects.toMatchObject({
      code: 'GROUP_EXISTS',
      message: expect.stringContaining('"g" already exists'),
    });
    expect(() => groups.require('nope')).toThrow(expect.objectContaining({ code: 'GROUP_NOT_FOUND' }));
    await expect(groups.update('nope', { fifo: true })).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
    await expect(groups.delete('nope')).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
    await expect(groups.delete('bad name')).rejects.toMatchObject({ code: 'INVALID_GROUP_NAME' });
    await expect(groups.create({ name: 'CID_RMQ_SYS_TRANS' })).rejects.toMatchObject({ code: 'RESERVED_GROUP' });
  });
});

describe('GroupRegistry.ensureGroup', () => {
  it('returns a known group', async () => {
    const { groups } = await meta.open();
    const created = await groups.create({ name: 'g', fifo: true });
    await expect(groups.ensureGroup('g')).resolves.toEqual(created);
  });

  it('answers GROUP_NOT_FOUND, saying how to fix it, when auto-create is off', async () => {
    const { groups } = await meta.open({ autoCreateGroups: false });
    await expect(groups.ensureGroup('g')).rejects.toMatchObject({
      code: 'GROUP_NOT_FOUND',
      message: expect.stringMatching(/"g" does not exist.*apogee group create g.*autoCreateGroups/),
    });
  });

  it('auto-creates an unknown group once, with the defaults, durably', async () => {
    let metadata = await meta.open({ autoCreateGroups: true });
    const seen = await Promise.all([1, 2, 3].map(() => metadata.groups.ensureGroup('fresh')));
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toMatchObject({ name: 'fresh', fifo: false, maxDeliveryAttempts: 17, retryPolicy: { kind: 'EXPONENTIAL' } });
    metadata = await meta.reopen(metadata, { autoCreateGroups: false });
    await expect(metadata.groups.ensureGroup('fresh')).resolves.toEqual(seen[0]);
  });

  it('refuses bad and system group names even with auto-create on', async () => {
    const { groups } = await meta.open({ autoCreateGroups: true });
    await expect(groups.ensureGroup('')).rejects.toMatchObject({ code: 'INVALID_GROUP_NAME' });
    await expect(groups.ensureGroup('CID_RMQ_SYS_x')).rejects.toMatchObject({ code: 'RESERVED_GROUP' });
    expect(groups.size).toBe(0);
  });
});
