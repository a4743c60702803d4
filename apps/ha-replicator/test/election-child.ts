/**
 * Child process for the election spec: one EtcdLeaderElection candidate that the spec can kill -9.
 * Usage: election-child.ts <etcd endpoint> <election name> <candidate id> <ttl seconds>.
 * Prints `leader true` / `leader false` on stdout at each change; logs JSON lines on stderr.
 */
import type { Logger } from '@apogee/runtime';
import { writeSync } from 'node:fs';
import { EtcdLeaderElection } from '../src/election/etcd-election';

const STDOUT_FD = 1;
const STDERR_FD = 2;

function stderrLogger(bindings: Record<string, unknown>): Logger {
  const write =
    (level: string) =>
    (fieldsOrMsg: unknown, msg?: string): void => {
      const fields = typeof fieldsOrMsg === 'object' && fieldsOrMsg !== null ? fieldsOrMsg : {};
      const text = typeof fieldsOrMsg === 'string' ? fieldsOrMsg : msg;
      writeSync(STDERR_FD, `${JSON.stringify({ level, ...bindings, ...fields, msg: text }, errorToString)}\n`);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => stderrLogger({ ...bindings, ...more }),
  } as Logger;
}

function errorToString(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}` : value;
}

async function main(): Promise<void> {
  const [endpoint, electionName, candidateId, ttl] = process.argv.slice(2);
  if (!endpoint || !electionName || !candidateId || !ttl) throw new Error('usage: election-child.ts <endpoint> <name> <id> <ttl>');
  const election = new EtcdLeaderElection({
    endpoints: [endpoint],
    electionName,
    candidateId,
    ttlSeconds: Number(ttl),
    logger: stderrLogger({ child: candidateId }),
  });
  // A blocking write, so a line is out before a kill -9 that follows it can land.
  election.onChange((isLeader) => writeSync(STDOUT_FD, `leader ${isLeader}\n`));
  process.once('SIGTERM', () => void election.stop().then(() => process.exit(0)));
  await election.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
