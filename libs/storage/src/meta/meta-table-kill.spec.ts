import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { MetaTable } from './meta-table';
import { waitUntil } from '../../test/wait-until';

const ACKS_BEFORE_KILL = [150, 600];
const WAIT_TIMEOUT_MS = 8000;
const FIXTURE = path.join(__dirname, 'kill-writer.fixture.ts');

let dir: string;
let child: ChildProcess | undefined;

/** Runs the writer until `acks` writes were acknowledged, kills it with SIGKILL, returns the acks. */
async function runAndKill(run: number, acks: number, durability: string): Promise<Map<number, number>> {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const proc = spawn(process.execPath, ['--import', tsx, FIXTURE, dir, String(run), durability], { stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  const acked = new Map<number, number>(); // writer → highest acknowledged i
  let count = 0;
  let stdout = '';
  let stderr = '';
  let exited = false;
  proc.on('exit', () => (exited = true));
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  proc.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const lines = stdout.split('\n');
    stdout = lines.pop() ?? ''; // a line without its newline is not an acknowledgement
    for (const line of lines) {
      const [w, i] = line.split(' ').map(Number);
      acked.set(w, Math.max(acked.get(w) ?? -1, i));
      count += 1;
    }
  });
  await waitUntil(() => count >= acks || exited, () => `${acks} acks (got ${count}; stderr: ${stderr})`, WAIT_TIMEOUT_MS);
  expect(exited).toBe(false);
  proc.kill('SIGKILL');
  await waitUntil(() => exited, () => 'the writer to exit', WAIT_TIMEOUT_MS);
  child = undefined;
  return acked;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-meta-kill-'));
});

afterEach(() => {
  child?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

// 'written' writes are answered before their fdatasync: a killed process (not a lost machine) keeps them too
describe.each(['sync', 'written'])('MetaTable under kill -9, %s writes', (durability) => {
  it('keeps every acknowledged write, and each update whole, across repeated kills', async () => {
    for (const [run, acks] of ACKS_BEFORE_KILL.entries()) {
      const acked = await runAndKill(run, acks, durability);
      const table = await MetaTable.open<{ i: number; pad: string }>(dir, 'offsets');
      try {
        for (const [w, highest] of acked) {
          for (let i = 0; i <= highest; i += 1) expect(table.get(`r${run}-w${w}-${i}`)?.i).toBe(i);
          const high = table.get(`r${run}-high-w${w}`)?.i ?? -1;
          expect(high).toBeGreaterThanOrEqual(highest);
          expect(table.get(`r${run}-w${w}-${high}`)?.i).toBe(high); // setMany is atomic
          expect(table.has(`r${run}-w${w}-${high + 1}`)).toBe(false);
        }
        expect(table.generation).toBeGreaterThan(0); // kills landed among compactions
      } finally {
        await table.close();
      }
    }
  }, 20000);
});
