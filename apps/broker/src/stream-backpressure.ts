/**
 * Backpressure for the broker's long-running server streams (BrokerDispatch.Follow,
 * Replication.Replicate; NODE-PERFORMANCE.md §7): after `write()` returned false, wait for the
 * stream's 'drain' — or for the service to stop (`stop` aborted), so that shutdown never waits on
 * a consumer that stopped reading.
 */
export function drainOrStop(call: Pick<NodeJS.EventEmitter, 'once' | 'removeListener'>, stop: AbortSignal): Promise<void> {
  if (stop.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      call.removeListener('drain', done);
      stop.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    stop.addEventListener('abort', done, { once: true });
  });
}
