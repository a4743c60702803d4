import type { DispatchListener } from '@apogee/storage';
import { ArrivalNotifier } from './arrival-notifier';

function fakeStore() {
  const listeners = new Set<DispatchListener>();
  return {
    onDispatch(listener: DispatchListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispatch(topic: string) {
      for (const l of listeners) l({ topic, queueId: 0, queueOffset: 0, physicalOffset: 0, totalBytes: 1, tag: '' } as never);
    },
    get listenerCount() {
      return listeners.size;
    },
  };
}

describe('ArrivalNotifier', () => {
  it('wakes waiters of the dispatched topic only', async () => {
    const store = fakeStore();
    const notifier = new ArrivalNotifier(store);
    const woke: string[] = [];
    const a = notifier.wait('a', notifier.version('a'), 60_000).then(() => woke.push('a'));
    void notifier.wait('b', notifier.version('b'), 60_000).then(() => woke.push('b'));
    store.dispatch('a');
    await a;
    expect(woke).toEqual(['a']);
    expect(notifier.waiting).toBe(1);
    notifier.close();
    expect(notifier.waiting).toBe(0);
    expect(store.listenerCount).toBe(0);
  });

  it('returns at once when a dispatch happened since the version was read, after close, or on cancel', async () => {
    const store = fakeStore();
    const notifier = new ArrivalNotifier(store);
    const version = notifier.version('a');
    store.dispatch('a');
    await notifier.wait('a', version, 60_000);
    let cancel!: () => void;
    const cancelled = new Promise<void>((resolve) => (cancel = resolve));
    const waiting = notifier.wait('a', notifier.version('a'), 60_000, cancelled);
    cancel();
    await waiting;
    expect(notifier.waiting).toBe(0);
    notifier.close();
    await notifier.wait('a', notifier.version('a'), 60_000);
  });

  it('wakes after the timeout', async () => {
    const notifier = new ArrivalNotifier(fakeStore());
    const started = Date.now();
    await notifier.wait('a', 0, 20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    notifier.close();
  });
});
