import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import {
  createBrokerAdminClient,
  createNameServerClient,
  type BrokerAdminClient,
  type NameServerClient,
} from '@apogee/protocol';
import { createLogger, loadConfig } from '@apogee/runtime';
import { spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { APP, brokerConfigSchema } from '../src/config';
import type { RegistrarTiming } from '../src/registration/nameserver-registrar';
import { startBroker, type RunningBroker } from '../src/start-broker';

/** Quick retries so a test sees a nameserver come back in well under a second. */
export const FAST_REGISTRATION: RegistrarTiming = {
  retry: { initialMs: 50, maxMs: 400 },
  debounceMs: 100,
  unregisterTimeoutMs: 2_000,
  callTimeoutMs: 1_000,
};

export interface TestBroker {
  service: RunningBroker;
  admin: BrokerAdminClient;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export interface NameserverOptions {
  /** Listen on this port (a restart on the same address); a free one by default. */
  port?: number;
  /** Brokers heartbeat every quarter of it; the nameserver's default (120 s) if absent. */
  evictionWindowMs?: number;
}

/**
 * Real nameserver processes, in-process brokers (free loopback ports, a temporary data dir each)
 * and clients, all stopped and removed after each test.
 */
export function useRegistrationCluster() {
  let dir = '';
  let brokers = 0;
  const cleanups: (() => Promise<unknown> | void)[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-registration-'));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const nameserver = async (options: NameserverOptions = {}): Promise<SpawnedService> => {
    const args = options.port === undefined ? [] : ['--grpc-port', String(options.port)];
    if (options.evictionWindowMs !== undefined) {
      args.push('--eviction-window-ms', String(options.evictionWindowMs), '--eviction-check-interval-ms', '20');
    }
    const service = await spawnService({ app: 'nameserver', args });
    cleanups.push(() => stopProcess(service));
    return service;
  };

  const client = (address: string): NameServerClient => {
    const nameServerClient = createNameServerClient(address, { timeoutMs: 2_000 });
    cleanups.push(() => nameServerClient.close());
    return nameServerClient;
  };

  const broker = async (nameservers: readonly string[], overrides: Record<string, unknown> = {}): Promise<TestBroker> => {
    const dataDir = path.join(dir, `broker-${(brokers += 1)}`);
    const config = loadConfig(brokerConfigSchema, {
      app: APP,
      overrides: { grpcHost: '127.0.0.1', grpcPort: 0, metricsHost: '127.0.0.1', metricsPort: 0, dataDir, nameservers, ...overrides },
    });
    const logs: Record<string, unknown>[] = [];
    const logger = createLogger({ app: APP, level: 'debug', destination: collect(logs) });
    const service = await startBroker(config, { logger, registrationTiming: FAST_REGISTRATION });
    const admin = createBrokerAdminClient(service.grpcAddress);
    const stop = async (): Promise<void> => {
      admin.close();
      await service.stop();
    };
    cleanups.push(stop);
    return { service, admin, logs, stop };
  };

  return { nameserver, client, broker, dataDir: () => dir };
}

/** Stops a process that may have stopped already; SIGKILL if SIGTERM is not enough. */
export async function stopProcess(service: SpawnedService): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  await service.stop('SIGTERM').catch(() => service.exited);
}

/** The port of a host:port address. */
export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** Log lines with this message (and these fields). */
export function linesOf(logs: readonly Record<string, unknown>[], msg: string, fields: Record<string, unknown> = {}) {
  return logs.filter((line) => line.msg === msg && Object.entries(fields).every(([k, v]) => line[k] === v));
}

function collect(logs: Record<string, unknown>[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
}

/**
 * Waits until exactly `count` lines match (log lines are written after the RPC was answered, and
 * a child process's lines arrive through a pipe, so they may trail what a client already sees),
 * then fails if more arrived.
 */
export async function expectLines(
  logs: readonly Record<string, unknown>[],
  msg: string,
  count: number,
  fields: Record<string, unknown> = {},
): Promise<void> {
  await waitFor(() => linesOf(logs, msg, fields).length >= count, { what: `${count} "${msg}" log line(s)`, timeoutMs: 5_000 }).catch(
    () => undefined, // the assertion below reports what was there
  );
  expect(linesOf(logs, msg, fields)).toHaveLength(count);
}
