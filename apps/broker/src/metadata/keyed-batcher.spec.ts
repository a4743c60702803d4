import { KeyedBatcher } from './keyed-batcher';
import { KeyedSerializer } from './keyed-serializer';

describe('KeyedBatcher', () => {
  it('batches items added while the key is busy, keeps keys apart, and answers each item', async () => {
    const batches: string[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new KeyedBatcher<string, string>(new KeyedSerializer(), async (key, items) => {
      batches.push([key, ...items]);
      if (items[0] === 'a1') await gate; // the first batch is slow: the next items pile up
      return items.map((item) => (item === 'bad' ? new Error(`no ${item}`) : `${item}!`));
    });
    const first = batcher.add('q', 'a1');
    await Promise.resolve();
    const more = [batcher.add('q', 'a2'), batcher.add('q', 'bad'), batcher.add('q', 'a3'), batcher.add('other', 'b1')];
    release();
    const settled = await Promise.allSettled([first, ...more]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
      'a1!',
      'a2!',
      'no bad',
      'a3!',
      'b1!',
    ]);
    expect(batches).toEqual([['q', 'a1'], ['other', 'b1'], ['q', 'a2', 'bad', 'a3']]);
  });

  it('puts the items added in one synchronous run into one batch', async () => {
    const batches: number[][] = [];
    const batcher = new KeyedBatcher<number, number>(new KeyedSerializer(), async (_key, items) => {
      batches.push([...items]);
      return items;
    });
    await expect(Promise.all([1, 2, 3].map((n) => batcher.add('k', n)))).resolves.toEqual([1, 2, 3]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('fails the whole batch when processing throws, and goes on with the next', async () => {
    let calls = 0;
    const batcher = new KeyedBatcher<number, number>(new KeyedSerializer(), async (_key, items) => {
      if (calls++ === 0) throw new Error('disk');
      return items;
    });
    await expect(batcher.add('k', 1)).rejects.toThrow('disk');
    await expect(batcher.add('k', 2)).resolves.toBe(2);
  });
});
