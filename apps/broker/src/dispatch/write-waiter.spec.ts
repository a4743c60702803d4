import type { DispatchListener } from '@apogee/storage';
import { WriteWaiter } from './write-waiter';

function fakeStore() {
  const listeners = new Set<DispatchListener>();
  return {
    maxPhysicalOffset: 100,
    onDispatch(listener: DispatchListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    write(end: number) {
      this.maxPhysicalOffset = end;
      for (const l of listeners) l({ topic: 't', queueId: 0, queueOffset: 0, physicalOffset: 0, totalBytes: 1, tag: '' } as never);
    },
    get listenerCount() {
      return listeners.size;
    },
  };
}

describe('WriteWaiter', () => {
  it('resolves at once when the log is already past the offset', async () => {
    const waiter = new WriteWaiter(fakeStore());
    await waiter.wait(50, 60_000);
    expect(waiter.waiting).toBe(0);
    waiter.close();
  });

  it('wakes every waiter on a write', async () => {
    const store = fakeStore();
    const waiter = new WriteWaiter(store);
    const both = Promise.all([waiter.wait(100, 60_000), waiter.wait(100, 60_000)]);
    expect(waiter.waiting).toBe(2);
    store.write(150);
    await both;
    expect(waiter.waiting).toBe(0);
    waiter.close();
  });

  it('gives up after the timeout, on abort and on close, without leaving listeners', async () => {
    const store = fakeStore();
    const waiter = new WriteWaiter(store);
    await waiter.wait(100, 5);
    const abort = new AbortController();
    const aborted = waiter.wait(100, 60_000, abort.signal);
    abort.abort();
    await aborted;
    const closed = waiter.wait(100, 60_000);
    waiter.close();
    await closed;
    expect(waiter.waiting).toBe(0);
    expect(store.listenerCount).toBe(0);
    await waiter.wait(100, 60_000); // closed: at once
  });
});
