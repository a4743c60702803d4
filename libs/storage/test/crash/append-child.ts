/**
 * Child process for kill-writer.spec.ts, run as `node --import tsx append-child.ts <dir> <SYNC|ASYNC> <run>`:
 * opens a MessageStore and keeps CHILD_APPENDERS appenders busy until it is killed. Messages are
 * messageOf(seq, run) in topic `run<run>`. Protocol on stdout, one line each:
 *   `+ <seq>`                                   before the append of seq is issued;
 *   `<seq> <physicalOffset> <queueOffset> <queueId>`  after it was acknowledged.
 * The store assigns offsets synchronously in append(), so log order is seq order.
 *
 * Lines go out with crash-child.ts writeLine (a blocking write(2)), so none is lost to the kill —
 * a `+` line lost would let the store hold a seq the parent never saw issued.
 */
import { MessageStore, type FlushMode } from '../../src/index';
import { writeLine } from './crash-child';
import { CHILD_APPENDERS, CHILD_QUEUES, CHILD_STORE, childTopic, messageOf } from './crash-messages';


async function main(dir: string, flushMode: FlushMode, run: number): Promise<void> {
  const store = await MessageStore.open({ dir, ...CHILD_STORE, flushMode });
  let next = 0;
  const appender = async (): Promise<void> => {
    for (;;) {
      const seq = next++;
      const message = messageOf(seq, { topic: childTopic(run), queues: CHILD_QUEUES, run });
      writeLine(`+ ${seq}`);
      const r = await store.append(message);
      writeLine(`${seq} ${r.physicalOffset} ${r.queueOffset} ${message.queueId}`);
    }
  };
  await Promise.all(Array.from({ length: CHILD_APPENDERS }, appender));
}

const [dir, mode, run] = process.argv.slice(2);
if (mode !== 'SYNC' && mode !== 'ASYNC') throw new Error(`usage: append-child.ts <dir> <SYNC|ASYNC> <run>; got mode ${mode}`);
main(dir, mode, Number(run)).catch((err: unknown) => {
  process.stderr.write(`append-child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
