/**
 * Test helper: a real single-member etcd (the `etcd` binary, Debian package etcd-server) on free
 * loopback ports with a fresh temporary data directory. `startEtcd()` resolves once it answers
 * /health; `kill()` SIGKILLs it and `stop()` also removes its directory.
 */
import { freePort, waitFor } from '@apogee/testing';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';

const ETCD_BINARY = process.env['ETCD_BINARY'] ?? 'etcd';
const START_TIMEOUT_MS = 15_000;
const OUTPUT_TAIL_CHARS = 4_000;

export interface EtcdServer {
  /** Client URL, e.g. http://127.0.0.1:41234. */
  readonly endpoint: string;
  /** SIGKILLs etcd (if running) and resolves once it has exited. */
  kill(): Promise<void>;
  /** kill() and remove the data directory. */
  stop(): Promise<void>;
}

/** Fails (never skips) when etcd is not installed: CI installs it, and so should a developer. */
export function assertEtcdInstalled(): void {
  const probe = spawnSync(ETCD_BINARY, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `the etcd binary ('${ETCD_BINARY}') is needed by the ha-replicator election tests and could not be run` +
        ` (${probe.error?.message ?? `exit ${probe.status}`}). Install it: ` +
        'sudo apt-get install -y --no-install-recommends etcd-server (or set ETCD_BINARY).',
    );
  }
}

export async function startEtcd(): Promise<EtcdServer> {
  assertEtcdInstalled();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'apogee-etcd-'));
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const args = [
    ...['--name', 'test', '--data-dir', dataDir],
    ...['--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl],
    ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl],
    ...['--initial-cluster', `test=${peerUrl}`, '--initial-cluster-state', 'new'],
    ...['--logger', 'zap', '--log-level', 'warn'],
  ];
  // No ETCD_* variables from the environment: they would override these flags.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ETCD')));
  const child = spawn(ETCD_BINARY, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const stop = async (): Promise<void> => {
    await kill();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`etcd exited early; output:\n${output}`);
        return (await healthy(clientUrl)) || undefined;
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, what: `etcd at ${clientUrl} to answer /health` },
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\netcd output:\n${output}`, { cause: err });
  }
  return { endpoint: clientUrl, kill, stop };
}

function healthy(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(new URL('/health', clientUrl), { agent: false, timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
