import { MessageStore } from '../src/message-store';
import { appendPaced, messageFactory } from './common';

/**
 * Child process of the recovery measurement: appends ASYNC into `dir` with checkpoints made
 * useless (the interval is ~23 days, and open writes none), prints one JSON line once
 * `targetBytes` are acknowledged and keeps appending until the parent SIGKILLs it.
 * Arguments: dir targetBytes bodyBytes maxOutstandingBytes.
 */

const CHECKPOINT_NEVER_MS = 2_000_000_000; // below setInterval's 2^31-1 ms limit

async function main(): Promise<void> {
  const [dir, target, body, outstanding] = process.argv.slice(2);
  const targetBytes = Number(target);
  const store = await MessageStore.open({ dir, flushMode: 'ASYNC', checkpointIntervalMs: CHECKPOINT_NEVER_MS });
  let reported = false;
  await appendPaced(store, messageFactory(Number(body)), {
    targetBytes: 2 * targetBytes, // a bound in case the parent is gone: it kills us long before
    minMs: 0,
    maxMs: 300_000,
    maxOutstandingBytes: Number(outstanding),
    onWindow: (recordBytes, messages) => {
      if (reported || recordBytes < targetBytes) return;
      reported = true;
      process.stdout.write(`${JSON.stringify({ recordBytes, messages })}\n`);
    },
  });
  process.stderr.write('recovery-writer: never killed, exiting without close\n');
  process.exit(2);
}

main().catch((err) => {
  process.stderr.write(`recovery-writer failed: ${(err as Error).stack}\n`);
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`, () => process.exit(1));
});
