/**
 * Child process for meta-table-kill.spec.ts (run with `node --import tsx`): four writers set keys
 * `r<run>-w<writer>-<i>` in a loop and print `<writer> <i>` to stdout only after the write resolved, until killed.
 * The third argument is the writes' durability: 'sync' (fdatasync-ed) or 'written' (in the journal).
 * Each write is a setMany of the key and the writer's high-water mark, so both land together.
 */
import { MetaTable } from './meta-table';

const WRITERS = 4;
const COMPACT_JOURNAL_BYTES = 8 * 1024; // compact often, so kills land mid-compaction too
const PAD_MODULUS = 40;

async function main(dir: string, run: string, durability: 'sync' | 'written'): Promise<void> {
  const table = await MetaTable.open<{ i: number; pad: string }>(dir, 'offsets', {
    compactJournalBytes: COMPACT_JOURNAL_BYTES,
    compactSnapshotRatio: 0,
  });
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; ; i += 1) {
      const value = { i, pad: 'x'.repeat(i % PAD_MODULUS) };
      await table.update(
        {
          set: [
            [`r${run}-w${w}-${i}`, value],
            [`r${run}-high-w${w}`, value],
          ],
        },
        { durability },
      );
      process.stdout.write(`${w} ${i}\n`);
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
}

main(process.argv[2], process.argv[3], process.argv[4] === 'written' ? 'written' : 'sync').catch((err: unknown) => {
  process.stderr.write(`kill-writer failed: ${String(err)}\n`);
  process.exit(1);
});
