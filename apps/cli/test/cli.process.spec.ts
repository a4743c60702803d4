import { execFile } from 'node:child_process';
import path from 'node:path';
import { WORKSPACE_ROOT } from '@apogee/testing';
import { closedAddress } from './cli-harness';

// `npx apogee` as users run it: node_modules/.bin/apogee (tools/apogee-bin/apogee.js, linked by
// npm ci) in a real process, from the repository root.
const BIN = path.join(WORKSPACE_ROOT, 'node_modules', '.bin', 'apogee');

function apogee(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: WORKSPACE_ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('node_modules/.bin/apogee', () => {
  it('prints the help and exits 0', async () => {
    const { code, stdout, stderr } = await apogee(['--help']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('Usage: apogee <noun> <verb>');
    expect(stdout).toContain('topic create <topic>');
  });

  it('exits 2 on a usage error and 1 when the nameserver is unreachable', async () => {
    const usage = await apogee(['topic', 'create', 'orders', '--type', 'URGENT']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--type "URGENT" is invalid');

    const address = await closedAddress();
    const down = await apogee(['cluster', 'status', '--nameserver', address, '--json']);
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout)).toMatchObject({ error: { grpcStatus: 'UNAVAILABLE', exitCode: 1 } });
  });
});
