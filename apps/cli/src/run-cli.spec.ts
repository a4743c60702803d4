import { Metadata, status } from '@grpc/grpc-js';
import type { BrokerAdminClient, NameServerClient } from '@apogee/protocol';
import type { ClusterInfo } from '@apogee/routing';
import type { CliDeps } from './command';
import { runCli } from './run-cli';

async function cli(argv: string[], deps: Partial<CliDeps> = {}) {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } };
  const code = await runCli(argv, io, deps);
  return { code, stdout, stderr };
}

const replica = (address: string) => ({ brokerId: 0, address, role: 'MASTER' as const, lastHeartbeatMs: 1 });
const INFO: ClusterInfo = {
  clusters: [{ clusterName: 'c1', brokerNames: ['a', 'b', 'c'] }],
  brokers: [
    { clusterName: 'c1', brokerName: 'a', replicas: [replica('h1:1')] },
    { clusterName: 'c1', brokerName: 'b', replicas: [replica('h2:1')] },
    { clusterName: 'c1', brokerName: 'c', replicas: [] },
  ],
};

/** A nameserver that only answers clusterInfo, and brokers that answer CreateTopic (h2:1 refuses). */
function fakes(closed: string[]): Partial<CliDeps> {
  const nameServerClient = (address: string) =>
    ({ address, clusterInfo: async () => INFO, close: () => closed.push(`ns ${address}`) }) as unknown as NameServerClient;
  const brokerAdminClient = (address: string): BrokerAdminClient => ({
    call: async (_method, request) => {
      if (address === 'h2:1') {
        throw Object.assign(new Error('disk'), { code: status.RESOURCE_EXHAUSTED, details: 'disk full', metadata: diskFull() });
      }
      return { topic: { ...request, permission: 'READ_WRITE' } } as never;
    },
    close: () => closed.push(`broker ${address}`),
  });
  return { nameServerClient, brokerAdminClient };
}

function diskFull(): Metadata {
  const metadata = new Metadata();
  metadata.set('apogee-error-code', 'DISK_FULL');
  return metadata;
}

describe('runCli dispatch', () => {
  it('prints help for --help (exit 0) and for nothing (exit 2, on stderr)', async () => {
    expect(await cli(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: apogee'), stderr: '' });
    expect(await cli([])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('Usage: apogee') });
    expect(await cli(['topic'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: apogee topic <verb>') });
    expect(await cli(['topic', '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('topic route <topic>') });
  });

  it("prints a verb's help with an example, even next to bad arguments", async () => {
    const { code, stdout } = await cli(['group', 'create', '--bogus', '-h']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: apogee group create <group> [--fifo true|false] [--max-attempts N] [--broadcast true|false] [--cluster C] [options]');
    expect(stdout).toContain('npx apogee group create billing');
  });

  it('exits 2 for unknown commands and verbs, listing what exists', async () => {
    expect(await cli(['queue', 'list'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: unknown command "queue"; commands: topic, group, message, broker, cluster\nhint: Run \'apogee --help\' for usage.\n',
    });
    expect((await cli(['topic', 'purge', 'x'])).stderr).toBe(
      'error: unknown command "topic purge"; topic verbs: create, update, delete, list, route, stats\nhint: Run \'apogee topic --help\' for usage.\n',
    );
    expect((await cli(['broker', 'config', 'reset'])).stderr).toBe(
      'error: unknown command "broker config reset"; broker verbs: config get, config set\nhint: Run \'apogee broker --help\' for usage.\n',
    );
  });

  it('finds two-word verbs (broker config get) and lists them in the help', async () => {
    const help = await cli(['broker', 'config', 'get', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: apogee broker config get [--broker HOST:PORT | --cluster C] [--key K] [options]');
    expect(help.stdout).toContain('npx apogee broker config get --broker 127.0.0.1:8081');
    const noun = await cli(['broker', 'config']);
    expect(noun.code).toBe(2);
    expect(noun.stderr).toMatch(/^\s+broker config set <key> <value>\s+Change a config field/m);
    expect((await cli(['--help'])).stdout).toMatch(/^\s+message tail <topic>\s+Follow a topic's new messages/m);
  });

  it('with --json, prints a usage error as one JSON document too', async () => {
    const { code, stdout } = await cli(['topic', 'create', 'x', '--json']);
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({
      error: {
        message: 'missing --type; allowed: NORMAL, FIFO, DELAY, TRANSACTION',
        hint: "Run 'apogee topic create --help' for usage.",
        exitCode: 2,
      },
    });
  });
});

describe('runCli fan-out to masters', () => {
  it('reports every broker, exits 1 when any failed, and closes every client', async () => {
    const closed: string[] = [];
    const { code, stdout, stderr } = await cli(['topic', 'create', 'orders', '--type', 'NORMAL'], fakes(closed));
    expect(code).toBe(1);
    expect(stdout).toMatch(/^a\s+h1:1\s+created$/m);
    expect(stdout).toMatch(/^b\s+h2:1\s+FAILED$/m);
    expect(stdout).toMatch(/^c\s+-\s+FAILED$/m);
    expect(stdout).toContain('b: broker b at h2:1: disk full\n  hint: Free disk space on the broker');
    expect(stdout).toContain('c: broker group c has no live master');
    expect(stderr).toBe('error: creating topic orders failed on 2 of 3 brokers\n');
    expect(closed.sort()).toEqual(['broker h1:1', 'broker h2:1', 'ns 127.0.0.1:9876']);
  });

  it('puts the same report in the JSON document', async () => {
    const { stdout } = await cli(['topic', 'create', 'orders', '--type', 'NORMAL', '--json'], fakes([]));
    const json = JSON.parse(stdout) as { ok: boolean; brokers: { result: string; error?: { apogeeCode?: string } }[] };
    expect(json.ok).toBe(false);
    expect(json.brokers.map((b) => b.result)).toEqual(['created', 'failed', 'failed']);
    expect(json.brokers[1]?.error?.apogeeCode).toBe('DISK_FULL');
  });
});
