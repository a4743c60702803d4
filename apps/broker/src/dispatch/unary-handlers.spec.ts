import type { WireStoredMessage } from '@apogee/protocol';
import { input, useDispatchStore } from '../../test/dispatch-store-fixture';
import { getMessagesHandler, MAX_GET_MESSAGES } from './get-messages.handler';
import { messagesByTimeHandler } from './messages-by-time.handler';

let nowMs = 1_000;
const isHidden = (topic: string): boolean => topic === 'hidden';

describe('GetMessages', () => {
  const store = useDispatchStore(() => nowMs);

  it('answers each offset in order: the message, or found = false', async () => {
    const s = store();
    const a = await s.append(input(0, { properties: { p: '1' } }));
    const hidden = await s.append(input(1, { topic: 'hidden' }));
    const get = getMessagesHandler({ store: s, brokerName: 'b1', isHidden });
    const answer = get({ physical_offsets: [String(a.physicalOffset), String(a.physicalOffset + 1), '99999999', String(hidden.physicalOffset)] });
    expect(answer.broker_name).toBe('b1');
    expect(answer.items?.map((i) => i.found)).toEqual([true, false, false, false]);
    expect(answer.items?.[0].message).toMatchObject({ message_id: 'id-0', keys: ['k0'], properties: { p: '1' }, store_timestamp_ms: 1_000 });
    expect(answer.items?.[0].message?.body?.toString()).toBe('body 0');
  });

  it('refuses malformed offsets and too many of them', () => {
    const get = getMessagesHandler({ store: store(), brokerName: 'b1', isHidden });
    expect(() => get({ physical_offsets: ['-1'] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => get({ physical_offsets: Array.from({ length: MAX_GET_MESSAGES + 1 }, () => '0') })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(get({})).toEqual({ items: [], broker_name: 'b1' });
  });
});

describe('MessagesByTime', () => {
  const store = useDispatchStore(() => nowMs);

  async function fill(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      nowMs = 1_000 + i * 10; // queue i % 2 gets store times 1000, 1020, ... / 1010, 1030, ...
      await store().append(input(i));
    }
  }

  const ids = (messages: WireStoredMessage[] | undefined): string[] => (messages ?? []).map((m) => m.message_id as string);

  it('returns the range queue by queue, paged by cursor', async () => {
    await fill();
    const byTime = messagesByTimeHandler({ store: store(), brokerName: 'b1', knowsTopic: () => false, isHidden });
    const all: string[] = [];
    let cursor = '';
    let pages = 0;
    do {
      const page = byTime({ topic: 'orders', from_ms: '1040', to_ms: '1130', limit: 3, cursor });
      expect(page.messages?.length ?? 0).toBeLessThanOrEqual(3);
      all.push(...ids(page.messages));
      cursor = page.next_cursor ?? '';
      pages++;
    } while (cursor !== '' && pages < 20);
    expect(all).toEqual(['id-4', 'id-6', 'id-8', 'id-10', 'id-12', 'id-5', 'id-7', 'id-9', 'id-11', 'id-13']);
    expect(ids(byTime({ topic: 'orders', from_ms: 1180 }).messages)).toEqual(['id-18', 'id-19']); // to_ms unset: no bound
  });

  it('refuses unknown and internal topics and bad ranges', async () => {
    await fill();
    const byTime = messagesByTimeHandler({ store: store(), brokerName: 'b1', knowsTopic: (t) => t === 'known', isHidden });
    expect(byTime({ topic: 'known' })).toEqual({ messages: [], next_cursor: '', broker_name: 'b1' });
    expect(() => byTime({ topic: 'nope' })).toThrow(expect.objectContaining({ code: 'TOPIC_NOT_FOUND' }));
    expect(() => byTime({ topic: 'hidden' })).toThrow(expect.objectContaining({ code: 'TOPIC_NOT_FOUND' }));
    expect(() => byTime({ topic: '' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => byTime({ topic: 'orders', from_ms: 5, to_ms: 4 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => byTime({ topic: 'orders', cursor: 'garbage' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
