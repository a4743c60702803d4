/**
 * Follow (proto/apogee/broker/v1/dispatch.proto): streams the commit log from a PhysicalOffset as
 * DispatchBatch frames, one per page of the log (MessageStore.scanFrom: at most
 * max_batch_entries records, one read per chunk of records).
 *
 * - Start: from_offset above the written end → OUT_OF_RANGE (OFFSET_OUT_OF_RANGE); below the
 *   oldest retained offset → the oldest (the first batch's from_offset says so). Should retention
 *   overtake a slow stream, it jumps the same way.
 * - Every batch: entries (records of hidden topics left out, internal-topics.ts), next_offset
 *   (where the next batch starts; past fillers and hidden records too), max_offset, min_offset,
 *   from_offset (where this batch starts: the previous batch's next_offset), broker_name.
 * - Caught up (next_offset = the written end): waits for a write (WriteWaiter); when none came
 *   within heartbeat_ms of the last batch, sends an empty batch (a heartbeat).
 * - Backpressure: when write() returns false, waits for 'drain' (NODE-PERFORMANCE §7) — so a slow
 *   follower holds at most the stream's buffer of batches in memory. Between batches the loop
 *   yields to the event loop, so a long backlog does not starve other calls.
 * - End: the client cancels (the loop stops), or the broker stops (the service's close(): the
 *   stream ends with OK and the follower resumes elsewhere or later from its next_offset). A
 *   failure mid-stream (a corrupt record) ends it with the mapped gRPC status.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { ApogeeError, toGrpcStatus, type WireDispatchBatch, type WireFollowRequest } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';
import { StorageError, type MessageStore } from '@apogee/storage';
import { countArg, entryToWire, int64Arg } from './dispatch-wire';
import type { WriteWaiter } from './write-waiter';
import { drainOrStop } from '../stream-backpressure';

export const DEFAULT_BATCH_ENTRIES = 1024;
export const MAX_BATCH_ENTRIES = 8192;
export const DEFAULT_HEARTBEAT_MS = 1_000;
/** Heartbeats no more often than this, so a tiny heartbeat_ms cannot spin the loop. */
export const MIN_HEARTBEAT_MS = 10;
export const MAX_HEARTBEAT_MS = 60_000;

export type FollowStream = ServerWritableStream<WireFollowRequest, WireDispatchBatch>;

export interface FollowDeps {
  readonly store: Pick<MessageStore, 'scanFrom' | 'minPhysicalOffset' | 'maxPhysicalOffset'>;
  readonly brokerName: string;
  readonly waiter: WriteWaiter;
  readonly isHidden: (topic: string) => boolean;
  readonly now: () => number;
  readonly logger: Logger;
  /** Aborts when the service closes (the broker stops): every stream ends. */
  readonly closed: AbortSignal;
}

interface FollowParams {
  readonly from: number;
  readonly maxEntries: number;
  readonly heartbeatMs: number;
}

function paramsOf(request: WireFollowRequest): FollowParams {
  const heartbeatMs = countArg(request.heartbeat_ms, DEFAULT_HEARTBEAT_MS, MAX_HEARTBEAT_MS);
  return {
    from: int64Arg(request.from_offset, 'from_offset'),
    maxEntries: countArg(request.max_batch_entries, DEFAULT_BATCH_ENTRIES, MAX_BATCH_ENTRIES),
    heartbeatMs: Math.max(MIN_HEARTBEAT_MS, heartbeatMs),
  };
}

export function followHandler(deps: FollowDeps): (call: FollowStream) => void {
  return (call) => {
    const stop = new AbortController(); // on cancel or service close
    const abort = (): void => stop.abort();
    call.once('cancelled', abort);
    deps.closed.addEventListener('abort', abort, { once: true });
    if (deps.closed.aborted) abort();
    const done = (): void => {
      call.removeListener('cancelled', abort);
      deps.closed.removeEventListener('abort', abort);
    };
    follow(deps, call, stop.signal).then(
      () => {
        done();
        if (!call.cancelled) call.end();
      },
      (err: unknown) => {
        done();
        const answer = toGrpcStatus(err);
        if (answer.errorCode === 'INTERNAL') deps.logger.error({ err }, 'follow failed');
        else deps.logger.debug({ code: answer.errorCode, error: answer.details }, 'follow refused');
        if (!call.cancelled) call.emit('error', answer);
      },
    );
  };
}

async function follow(deps: FollowDeps, call: FollowStream, stop: AbortSignal): Promise<void> {
  const { store } = deps;
  const params = paramsOf(call.request);
  if (params.from > store.maxPhysicalOffset) {
    throw new ApogeeError(
      'OFFSET_OUT_OF_RANGE',
      `from_offset ${params.from} is past the end of the log (${store.maxPhysicalOffset})`,
    );
  }
  let pos = Math.max(params.from, store.minPhysicalOffset);
  let lastSentMs = deps.now();
  while (!stop.aborted) {
    const page = scanOrSkip(store, pos, params.maxEntries);
    const progressed = page.next !== pos || page.jumped;
    const heartbeatDue = deps.now() - lastSentMs >= params.heartbeatMs;
    if (progressed || heartbeatDue) {
      const batch: WireDispatchBatch = {
        entries: page.records.filter((r) => !deps.isHidden(r.topic)).map(entryToWire),
        next_offset: page.next,
        max_offset: store.maxPhysicalOffset,
        min_offset: store.minPhysicalOffset,
        from_offset: page.from,
        broker_name: deps.brokerName,
      };
      if (!call.write(batch)) await drainOrStop(call, stop);
      lastSentMs = deps.now();
      pos = page.next;
    }
    if (pos >= store.maxPhysicalOffset) {
      await deps.waiter.wait(pos, params.heartbeatMs - (deps.now() - lastSentMs), stop);
    } else {
      await yieldToLoop();
    }
  }
}

interface FollowPage {
  /** Where the page starts: `pos`, or the oldest retained offset when retention passed `pos`. */
  readonly from: number;
  readonly jumped: boolean;
  readonly records: ReturnType<MessageStore['scanFrom']>['records'];
  readonly next: number;
}

/** One page from `pos`; if retention deleted `pos` meanwhile, from the oldest retained offset. */
function scanOrSkip(store: FollowDeps['store'], pos: number, maxEntries: number): FollowPage {
  try {
    return { from: pos, jumped: false, ...store.scanFrom(pos, maxEntries) };
  } catch (err) {
    const min = store.minPhysicalOffset;
    if (!(err instanceof StorageError) || err.code !== 'OFFSET_OUT_OF_RANGE' || pos >= min) throw err;
    return { from: min, jumped: true, ...store.scanFrom(min, maxEntries) };
  }
}
