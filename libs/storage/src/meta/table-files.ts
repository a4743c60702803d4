/**
 * The files of one metadata table and the one routine that starts a new generation of them.
 *
 *   <dir>/<table>.snapshot                          complete state up to generation G - 1
 *   <dir>/<table>.<G, 20 digits>.journal            mutations since that snapshot (live)
 *   <dir>/<table>.snapshot.tmp                      a snapshot being written (garbage after a crash)
 *   <dir>/<table>.<other generation>.journal        superseded (< G) or never committed (> G)
 *
 * Starting generation G (table creation with G = 0 and an empty map; compaction with G + 1):
 *   1. create journal G holding only its header, fsync it;
 *   2. fsync the directory, so journal G exists on disk before any snapshot names it;
 *   3. write the snapshot naming G to `.snapshot.tmp`, fsync, rename over `.snapshot`,
 *      fsync the directory — the commit point;
 *   4. (caller) switch appends to journal G and delete journal G - 1.
 * A crash before step 3's rename leaves the old snapshot and journal in charge and an orphan
 * journal G that holds no records; a crash after it leaves a complete snapshot and a journal G
 * that exists. No step writes into an existing file.
 */
import * as path from 'node:path';

import { StorageError } from '../errors';
import { encodeJournalHeader } from './journal-file';
import {
  createFileSynced,
  replaceFileDurably,
  syncDirectory,
  TMP_SUFFIX,
  type MetaFileHandle,
  type MetaFileSystem,
} from './meta-fs';
import { encodeSnapshot } from './snapshot-file';

/** Table names become file-name prefixes: no dots, no separators. */
export const TABLE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const GENERATION_DIGITS = 20;
export const SNAPSHOT_SUFFIX = '.snapshot';
export const JOURNAL_SUFFIX = '.journal';

export interface TableFiles {
  readonly hasSnapshot: boolean;
  readonly hasSnapshotTmp: boolean;
  /** Generations of the journal files present, ascending. */
  readonly journalGenerations: number[];
}

export function assertTableName(name: string): void {
  if (!TABLE_NAME_PATTERN.test(name)) {
    throw new StorageError('INVALID_NAME', `metadata table name ${JSON.stringify(name)} must match ${TABLE_NAME_PATTERN}`);
  }
}

export function snapshotPath(dir: string, name: string): string {
  return path.join(dir, `${name}${SNAPSHOT_SUFFIX}`);
}

export function snapshotTmpPath(dir: string, name: string): string {
  return `${snapshotPath(dir, name)}${TMP_SUFFIX}`;
}

export function journalPath(dir: string, name: string, generation: number): string {
  return path.join(dir, `${name}.${String(generation).padStart(GENERATION_DIGITS, '0')}${JOURNAL_SUFFIX}`);
}

export async function listTableFiles(fs: MetaFileSystem, dir: string, name: string): Promise<TableFiles> {
  const names = await fs.readdir(dir);
  const journal = new RegExp(`^${name}\\.(\\d{${GENERATION_DIGITS}})${JOURNAL_SUFFIX.replace('.', '\\.')}$`);
  const journalGenerations = names
    .map((file) => journal.exec(file)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  return {
    hasSnapshot: names.includes(path.basename(snapshotPath(dir, name))),
    hasSnapshotTmp: names.includes(path.basename(snapshotTmpPath(dir, name))),
    journalGenerations,
  };
}

export interface StartedGeneration {
  /** Journal `generation`, open for positional appends after its header. */
  readonly journal: MetaFileHandle;
  readonly snapshotBytes: number;
}

/** Steps 1–3 above. On failure nothing is committed and the new journal handle is closed. */
export async function startGeneration(
  fs: MetaFileSystem,
  dir: string,
  name: string,
  generation: number,
  entries: Iterable<readonly [string, string]>,
): Promise<StartedGeneration> {
  const journal = await createFileSynced(fs, journalPath(dir, name, generation), encodeJournalHeader(generation));
  try {
    await syncDirectory(fs, dir);
    const snapshot = encodeSnapshot({ generation, entries });
    await replaceFileDurably(fs, snapshotPath(dir, name), snapshot);
    return { journal, snapshotBytes: snapshot.length };
  } catch (err) {
    await journal.close().catch(() => undefined); // the failure above is the one to report
    throw err;
  }
}
