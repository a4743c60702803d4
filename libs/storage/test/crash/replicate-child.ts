/**
 * Child process for replicate-kill.spec.ts, run as
 * `node --import tsx replicate-child.ts <masterDir> <slaveDir>`: opens the master's store (which
 * it only reads) and a SYNC slave store, and copies the master's log into the slave with
 * readLogBytes/appendReplicated in chunks of varying size until it is killed. After each
 * acknowledged chunk it prints `<from> <end>`; once caught up it prints `caught-up` and idles.
 * Lines go out with crash-child.ts writeLine, so none is lost to the kill.
 */
import { MessageStore } from '../../src/index';
import { writeLine } from './crash-child';
import { CHILD_STORE } from './crash-messages';

const CHUNK_BYTES = [1, 700, 5000, 40_000, 200];

async function main(masterDir: string, slaveDir: string): Promise<void> {
  const master = await MessageStore.open({ dir: masterDir, ...CHILD_STORE });
  const slave = await MessageStore.open({ dir: slaveDir, ...CHILD_STORE, flushMode: 'SYNC' });
  let from = slave.maxPhysicalOffset;
  for (let call = 0; ; call++) {
    const { bytes } = master.readLogBytes(from, CHUNK_BYTES[call % CHUNK_BYTES.length]);
    if (bytes.length === 0) break;
    const end = await slave.appendReplicated(from, bytes);
    writeLine(`${from} ${end}`);
    from = end;
  }
  writeLine('caught-up');
  setInterval(() => undefined, 1000); // wait for the kill
}

const [masterDir, slaveDir] = process.argv.slice(2);
main(masterDir, slaveDir).catch((err: unknown) => {
  process.stderr.write(`replicate-child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
