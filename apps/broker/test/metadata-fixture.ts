import { promises as fsp } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, type Logger } from '@apogee/runtime';
import type { MetaFileSystem } from '@apogee/storage';
import { openBrokerMetadata, type BrokerMetadata, type MetadataConfig } from '../src/metadata/open-metadata';

export const silentLogger: Logger = createLogger({ app: 'broker', level: 'silent' });

/**
 * A temporary data directory per test and the broker metadata opened in it; `reopen` closes and
 * opens it again, as a broker restart does. Everything is closed and removed after each test.
 */
export function useTempMetadata(defaults: Partial<MetadataConfig> = {}) {
  const state = { dataDir: '', open: [] as BrokerMetadata[] };
  beforeEach(async () => {
    state.dataDir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-meta-'));
  });
  afterEach(async () => {
    await Promise.allSettled(state.open.splice(0).map((metadata) => metadata.close()));
    await rm(state.dataDir, { recursive: true, force: true });
  });
  const open = async (overrides: Partial<MetadataConfig> = {}): Promise<BrokerMetadata> => {
    const config = { dataDir: state.dataDir, autoCreateTopics: false, autoCreateGroups: false, ...defaults, ...overrides };
    const metadata = await openBrokerMetadata(config, silentLogger);
    state.open.push(metadata);
    return metadata;
  };
  const reopen = async (metadata: BrokerMetadata, overrides: Partial<MetadataConfig> = {}): Promise<BrokerMetadata> => {
    await metadata.close();
    return open(overrides);
  };
  return { open, reopen, dataDir: () => state.dataDir };
}

/** Node's fs.promises, except that every fdatasync waits while `hold()` is in force. */
export function gatedFileSystem() {
  let gate: Promise<void> | undefined;
  let release: () => void = () => undefined;
  let held = 0;
  const fs: MetaFileSystem = {
    open: async (file, flags) => {
      const handle = await fsp.open(file, flags);
      return {
        write: (buffer, offset, length, position) => handle.write(buffer, offset, length, position),
        datasync: async () => {
          if (gate !== undefined) {
            held += 1;
            await gate;
          }
          return handle.datasync();
        },
        sync: () => handle.sync(),
        truncate: (length) => handle.truncate(length),
        close: () => handle.close(),
      };
    },
    readFile: (file) => fsp.readFile(file),
    readdir: (dir) => fsp.readdir(dir),
    rename: (from, to) => fsp.rename(from, to),
    unlink: (file) => fsp.unlink(file),
    mkdir: (dir, options) => fsp.mkdir(dir, options),
  };
  return {
    fs,
    /** fdatasync calls that reached the gate while it was closed. */
    held: () => held,
    hold(): void {
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    release(): void {
      release();
      gate = undefined;
    },
  };
}
