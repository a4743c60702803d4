import { EventEmitter } from 'node:events';
import { status } from '@grpc/grpc-js';
import type { GrpcErrorStatus, WireDispatchBatch, WireFollowRequest } from '@apogee/protocol';
import { createLogger } from '@apogee/runtime';
import { waitFor } from '@apogee/testing';
import type { MessageStore } from '@apogee/storage';
import { input, useDispatchStore } from '../../test/dispatch-store-fixture';
import { followHandler, type FollowDeps, type FollowStream } from './follow.handler';
import { WriteWaiter } from './write-waiter';

const logger = createLogger({ app: 'broker', level: 'silent' });

/** A stand-in for grpc-js's server stream: records writes; `accept` false makes write() report a full buffer. */
class FakeCall extends EventEmitter {
  readonly batches: WireDispatchBatch[] = [];
  cancelled = false;
  ended = false;
  error: GrpcErrorStatus | undefined;
  accept = true;

  constructor(readonly request: WireFollowRequest) {
    super();
    this.on('error', (err: GrpcErrorStatus) => (this.error = err));
  }

  write(batch: WireDispatchBatch): boolean {
    this.batches.push(batch);
    return this.accept;
  }

  end(): void {
    this.ended = true;
  }

  cancel(): void {
    this.cancelled = true;
    this.emit('cancelled');
  }

  get ids(): string[] {
    return this.batches.flatMap((b) => (b.entries ?? []).map((e) => e.message_id as string));
  }
}

describe('Follow', () => {
  const store = useDispatchStore();
  let closing: AbortController;
  let waiter: WriteWaiter;
  const calls: FakeCall[] = [];

  function start(request: WireFollowRequest, over: Partial<FollowDeps> = {}, accept = true): FakeCall {
    const call = new FakeCall(request);
    call.accept = accept;
    calls.push(call);
    const deps: FollowDeps = {
      store: store(),
      brokerName: 'b1',
      waiter,
      isHidden: (topic) => topic === 'hidden',
      now: Date.now,
      logger,
      closed: closing.signal,
      ...over,
    };
    followHandler(deps)(call as unknown as FollowStream);
    return call;
  }

  beforeEach(() => {
    closing = new AbortController();
    waiter = new WriteWaiter(store());
  });

  afterEach(async () => {
    for (const call of calls.splice(0)) call.cancel();
    closing.abort();
    waiter.close();
  });

  it('streams every record in pages, leaves hidden topics out, and waits for more', async () => {
    const s = store();
    for (let i = 0; i < 5; i++) await s.append(input(i, i === 2 ? { topic: 'hidden' } : {}));
    const call = start({ from_offset: '0', max_batch_entries: 2, heartbeat_ms: 60_000 });
    await waitFor(() => call.batches.at(-1)?.next_offset === s.maxPhysicalOffset);
    expect(call.ids).toEqual(['id-0', 'id-1', 'id-3', 'id-4']);
    expect(call.batches.map((b) => b.entries?.length)).toEqual([2, 1, 1]);
    expect(call.batches[1]).toMatchObject({ from_offset: call.batches[0].next_offset, broker_name: 'b1', min_offset: 0 });
    expect(call.batches[0].entries?.[0]).toMatchObject({ topic: 'orders', queue_id: 0, queue_offset: 0, keys: ['k0'], tag: 'T' });
    await s.append(input(5));
    await waitFor(() => call.ids.length === 5);
    expect(call.ids.at(-1)).toBe('id-5');
    expect(call.ended).toBe(false);
  });

  it('sends heartbeats while caught up', async () => {
    const s = store();
    await s.append(input(0));
    const call = start({ heartbeat_ms: 20 });
    await waitFor(() => call.batches.length >= 3);
    expect(call.batches.slice(1).every((b) => b.entries?.length === 0 && b.next_offset === s.maxPhysicalOffset)).toBe(true);
  });

  it('refuses a start past the end of the log', async () => {
    const s = store();
    await s.append(input(0));
    const call = start({ from_offset: String(s.maxPhysicalOffset + 1) });
    await waitFor(() => call.error);
    expect(call.error).toMatchObject({ code: status.OUT_OF_RANGE, errorCode: 'OFFSET_OUT_OF_RANGE' });
    expect(call.batches).toEqual([]);
  });

  it('starts at the oldest retained offset when asked for an older one', async () => {
    const pages: number[] = [];
    const fake = {
      minPhysicalOffset: 1000,
      maxPhysicalOffset: 1000,
      scanFrom: (from: number) => {
        pages.push(from);
        return { records: [], next: from };
      },
    } as unknown as Pick<MessageStore, 'scanFrom' | 'minPhysicalOffset' | 'maxPhysicalOffset'>;
    const call = start({ from_offset: 10, heartbeat_ms: 10 }, { store: fake });
    await waitFor(() => call.batches.length >= 1);
    expect(pages[0]).toBe(1000);
    expect(call.batches[0]).toMatchObject({ from_offset: 1000, next_offset: 1000, min_offset: 1000 });
  });

  it('waits for drain when the stream buffer is full', async () => {
    const s = store();
    for (let i = 0; i < 6; i++) await s.append(input(i));
    const call = start({ max_batch_entries: 1, heartbeat_ms: 60_000 }, {}, false);
    await waitFor(() => call.batches.length === 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(call.batches).toHaveLength(1);
    call.accept = true;
    call.emit('drain');
    await waitFor(() => call.ids.length === 6);
  });

  it('ends the stream when the service closes, and stops writing once cancelled', async () => {
    const s = store();
    await s.append(input(0));
    const closedCall = start({});
    const cancelledCall = start({ heartbeat_ms: 10 });
    await waitFor(() => closedCall.batches.length === 1 && cancelledCall.batches.length >= 1);
    cancelledCall.cancel();
    const written = cancelledCall.batches.length;
    closing.abort();
    await waitFor(() => closedCall.ended);
    // A witness on the same heartbeat: once it has the new message and two heartbeats after it,
    // the cancelled stream would have written by now.
    closing = new AbortController();
    const witness = start({ heartbeat_ms: 10 });
    await s.append(input(1));
    await waitFor(() => {
      const at = witness.batches.findIndex((b) => b.entries?.some((e) => e.message_id === 'id-1'));
      return at >= 0 && witness.batches.length >= at + 3;
    });
    expect(cancelledCall.batches).toHaveLength(written);
    expect(cancelledCall.ended).toBe(false);
  });
});
