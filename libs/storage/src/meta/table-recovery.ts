/**
 * Opening a metadata table, as a story: list the files → delete garbage (`.snapshot.tmp`,
 * superseded and never-committed journals) → read and check the snapshot (corrupt = refuse to
 * open) → read the journal it names → scan records, checking each CRC → stop at the first bad
 * record → truncate the journal there → report exactly what was cut.
 * A directory without a snapshot is a new table, unless a journal in it holds records: then the
 * snapshot was lost and opening would silently drop state, so it is refused too.
 */
import { StorageError } from '../errors';
import { checkJournalHeader, JOURNAL_HEADER_BYTES, OP_SET, scanJournal, type DecodedMutation, type JournalStopReason } from './journal-file';
import type { MetaFileHandle, MetaFileSystem } from './meta-fs';
import { decodeSnapshot } from './snapshot-file';
import { journalPath, listTableFiles, snapshotPath, snapshotTmpPath, startGeneration } from './table-files';

/** What opening a table found and did; `truncatedBytes > 0` means a torn or corrupt tail was cut. */
export interface MetaOpenReport {
  readonly table: string;
  /** True when the table did not exist and was created empty. */
  readonly created: boolean;
  readonly generation: number;
  readonly snapshotEntries: number;
  readonly journalRecords: number;
  /** Journal length kept, header included. */
  readonly journalBytes: number;
  readonly truncatedBytes: number;
  readonly truncateReason?: JournalStopReason;
  /** Paths deleted as garbage (leftover tmp file, superseded or orphan journals). */
  readonly removedFiles: readonly string[];
}

export interface RecoveredTable {
  readonly entries: Map<string, unknown>;
  readonly generation: number;
  readonly journal: MetaFileHandle;
  readonly snapshotBytes: number;
  readonly report: MetaOpenReport;
}

export function applyMutations(entries: Map<string, unknown>, mutations: readonly DecodedMutation[]): void {
  for (const mutation of mutations) {
    if (mutation.op === OP_SET) entries.set(mutation.key, mutation.value);
    else entries.delete(mutation.key);
  }
}

export async function recoverTable(fs: MetaFileSystem, dir: string, name: string): Promise<RecoveredTable> {
  const files = await listTableFiles(fs, dir, name);
  const removedFiles: string[] = [];
  if (files.hasSnapshotTmp) await remove(fs, snapshotTmpPath(dir, name), removedFiles);
  if (!files.hasSnapshot) return createTable(fs, dir, name, files.journalGenerations, removedFiles);

  const snapshotFile = await fs.readFile(snapshotPath(dir, name));
  const snapshot = decodeOrRefuse(name, snapshotPath(dir, name), snapshotFile);
  const { generation, entries } = snapshot;
  const snapshotEntries = entries.size;
  for (const other of files.journalGenerations.filter((g) => g !== generation)) {
    await removeStaleJournal(fs, journalPath(dir, name, other), other > generation, removedFiles);
  }
  if (!files.journalGenerations.includes(generation)) {
    throw corrupt(name, `journal ${journalPath(dir, name, generation)} named by the snapshot is missing`);
  }
  const replay = await replayJournal(fs, journalPath(dir, name, generation), name, generation, entries);
  return {
    entries,
    generation,
    journal: replay.journal,
    snapshotBytes: snapshotFile.length,
    report: {
      table: name,
      created: false,
      generation,
      snapshotEntries,
      journalRecords: replay.records,
      journalBytes: replay.keptBytes,
      truncatedBytes: replay.truncatedBytes,
      truncateReason: replay.truncateReason,
      removedFiles,
    },
  };
}

interface Replay {
  readonly journal: MetaFileHandle;
  readonly records: number;
  readonly keptBytes: number;
  readonly truncatedBytes: number;
  readonly truncateReason?: JournalStopReason;
}

async function replayJournal(
  fs: MetaFileSystem,
  file: string,
  name: string,
  generation: number,
  entries: Map<string, unknown>,
): Promise<Replay> {
  const content = await fs.readFile(file);
  const headerProblem = checkJournalHeader(content, generation);
  if (headerProblem !== undefined) throw corrupt(name, `journal ${file}: ${headerProblem}`);
  const scan = scanJournal(content);
  for (const record of scan.records) applyMutations(entries, record);
  const journal = await fs.open(file, 'r+');
  const truncatedBytes = content.length - scan.validBytes;
  if (truncatedBytes > 0) {
    try {
      await journal.truncate(scan.validBytes);
      await journal.datasync();
    } catch (err) {
      await journal.close().catch(() => undefined); // the truncate failure is the one to report
      throw err;
    }
  }
  return {
    journal,
    records: scan.records.length,
    keptBytes: scan.validBytes,
    truncatedBytes,
    truncateReason: scan.stopReason,
  };
}

async function createTable(
  fs: MetaFileSystem,
  dir: string,
  name: string,
  journalGenerations: readonly number[],
  removedFiles: string[],
): Promise<RecoveredTable> {
  for (const generation of journalGenerations) {
    await removeStaleJournal(fs, journalPath(dir, name, generation), true, removedFiles);
  }
  const generation = 0;
  const started = await startGeneration(fs, dir, name, generation, []);
  const report: MetaOpenReport = {
    table: name,
    created: true,
    generation,
    snapshotEntries: 0,
    journalRecords: 0,
    journalBytes: JOURNAL_HEADER_BYTES,
    truncatedBytes: 0,
    removedFiles,
  };
  return { entries: new Map(), generation, journal: started.journal, snapshotBytes: started.snapshotBytes, report };
}

/**
 * Deletes a journal that the snapshot does not name. One older than the snapshot is covered by
 * it; one newer was never committed and so can hold nothing but its header — if it holds more,
 * something other than this code wrote it, and guessing would lose data.
 */
async function removeStaleJournal(fs: MetaFileSystem, file: string, mustBeEmpty: boolean, removedFiles: string[]): Promise<void> {
  if (mustBeEmpty) {
    const content = await fs.readFile(file);
    if (content.length > JOURNAL_HEADER_BYTES) {
      throw new StorageError('CORRUPT_METADATA', `journal ${file} holds records but no snapshot names it; refusing to open`);
    }
  }
  await remove(fs, file, removedFiles);
}

async function remove(fs: MetaFileSystem, file: string, removedFiles: string[]): Promise<void> {
  await fs.unlink(file);
  removedFiles.push(file);
}

function decodeOrRefuse(name: string, file: string, content: Buffer): ReturnType<typeof decodeSnapshot> {
  try {
    return decodeSnapshot(content);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw corrupt(name, `snapshot ${file} is corrupt (${detail}); refusing to open rather than start empty`, err);
  }
}

function corrupt(name: string, detail: string, cause?: unknown): StorageError {
  return new StorageError('CORRUPT_METADATA', `metadata table "${name}": ${detail}`, { cause });
}
