#!/usr/bin/env node
// `npm start`: runs a nameserver, an ha-replicator, one broker group of a master and a slave,
// and an index-service on loopback, with data under ./data/<name>, straight from TypeScript
// (node --import tsx, no build). The nameserver starts first, so the brokers register with it on
// their first try; the ha-replicator makes replica 0 master, and the master also listens on the
// group's service address 127.0.0.1:8081, which clients use (after a failover, the new master
// listens there). The brokers auto-create topics and groups on first use (off in
// deploy/broker.prod.json). Prints where everything listens once every health check answers
// SERVING and the group's master serves 8081.
// Ctrl-C or SIGTERM stops them all (SIGTERM to each, then wait; the nameserver last). A broker
// that dies is started again after BROKER_RESTART_MS (so a failover can be watched: kill -9 the
// master, the slave takes over, the old master comes back as a slave); any other app that dies
// stops the others and this exits non-zero.
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');
const { checkHealth } = require('./health-check');

const ROOT = path.resolve(__dirname, '..');
const HOST = '127.0.0.1';
const SERVICE_ADDRESS = `${HOST}:8081`;
const brokerArgs = (id) => [
  ...['--nameservers', `${HOST}:9876`, '--auto-create-topics', 'true', '--auto-create-groups', 'true'],
  ...['--broker-name', 'broker-a', '--broker-id', String(id), '--ha-replicators', `${HOST}:9878`, '--service-address', SERVICE_ADDRESS],
];
const APPS = [
  { name: 'nameserver', app: 'nameserver', grpcPort: 9876, metricsPort: 19876, dataDir: false },
  { name: 'ha-replicator', app: 'ha-replicator', grpcPort: 9878, metricsPort: 19878, dataDir: true },
  { name: 'broker', app: 'broker', grpcPort: 10911, metricsPort: 18081, dataDir: true, args: brokerArgs(0), restarts: true },
  { name: 'broker-slave', app: 'broker', grpcPort: 10921, metricsPort: 18082, dataDir: true, args: brokerArgs(1), restarts: true },
  { name: 'index-service', app: 'index-service', grpcPort: 9877, metricsPort: 19877, dataDir: true, args: ['--nameservers', `${HOST}:9876`] },
];
const BROKER_RESTART_MS = 10_000;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

const running = new Map(); // name -> { child, exit: Promise<{ code, signal }> }
let stopping = false;

function say(line) {
  process.stderr.write(`[local-cluster] ${line}\n`);
}

function startApp(spec) {
  const { name, app, grpcPort, metricsPort, dataDir, args: extraArgs = [] } = spec;
  const args = ['--import', 'tsx', path.join('apps', app, 'src', 'main.ts')];
  args.push('--grpc-host', HOST, '--grpc-port', String(grpcPort));
  args.push('--metrics-host', HOST, '--metrics-port', String(metricsPort));
  if (dataDir) args.push('--data-dir', path.join('data', name));
  args.push(...extraArgs);
  // detached: a terminal Ctrl-C reaches only this launcher, which then stops each app once.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join('apps', app, 'tsconfig.json') },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  running.set(name, { child, exit });
  exit.then(({ code, signal }) => {
    running.delete(name);
    if (stopping) return;
    if (spec.restarts) {
      say(`${name} (pid ${child.pid}) exited (code ${code}, signal ${signal}); starting it again in ${BROKER_RESTART_MS / 1000} s`);
      setTimeout(() => !stopping && startApp(spec), BROKER_RESTART_MS).unref();
      return;
    }
    say(`${name} exited unexpectedly (code ${code}, signal ${signal}); stopping the others`);
    void stopAll(1);
  });
}

async function waitServing({ name, grpcPort, address = `${HOST}:${grpcPort}` }) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!stopping) {
    const status = await checkHealth(address, { timeoutMs: 1_000 }).catch(() => undefined);
    if (status === 'SERVING') return;
    if (Date.now() > deadline) {
      throw new Error(`${name} did not answer SERVING on ${address} within ${READY_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function printTable() {
  const rows = [['app', 'gRPC (health: grpc.health.v1)', 'metrics', 'data', 'pid'], ...APPS.map((a) => [
    a.name, `${HOST}:${a.grpcPort}`, `http://${HOST}:${a.metricsPort}/metrics`, a.dataDir ? `data/${a.name}` : '-',
    String(running.get(a.name)?.child.pid ?? '-'),
  ])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  process.stdout.write(
    `\nApogee local cluster is up (Ctrl-C stops it):\n${lines.join('\n')}\n\n` +
      `Clients connect to ${SERVICE_ADDRESS}: broker group broker-a, served by whichever replica is master.\n\n`,
  );
}

async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  const apps = [...running.entries()];
  say(`stopping ${apps.map(([name]) => name).join(', ') || 'nothing'}`);
  // The nameserver last, so the broker can unregister from it on the way out.
  const [first, last] = [apps.filter(([name]) => name !== 'nameserver'), apps.filter(([name]) => name === 'nameserver')];
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS, 'timeout')));
  const stopPhase = (phase) => {
    for (const [, { child }] of phase) child.kill('SIGTERM');
    return Promise.race([Promise.all(phase.map(([, r]) => r.exit)), timeout]);
  };
  const firstResults = await stopPhase(first);
  const results = firstResults === 'timeout' ? 'timeout' : await stopPhase(last);
  clearTimeout(timer);
  if (results === 'timeout') {
    say(`some apps did not stop within ${STOP_TIMEOUT_MS} ms; killing them`);
    killAll();
    exitCode = 1;
  } else if ([...firstResults, ...results].some((r) => r.code !== 0)) {
    exitCode = 1;
  }
  say(`stopped (exit ${exitCode})`);
  process.exit(exitCode);
}

function killAll() {
  for (const { child } of running.values()) child.kill('SIGKILL');
}

// A terminal's Ctrl-C reaches both npm and us, and npm forwards its copy too: a repeat within
// this window is the same keypress, not a second request.
const REPEAT_SIGNAL_WINDOW_MS = 1_000;
let lastSignalAt = 0;

function onSignal(signal) {
  const now = Date.now();
  const repeat = now - lastSignalAt < REPEAT_SIGNAL_WINDOW_MS;
  lastSignalAt = now;
  if (repeat) return;
  if (stopping) {
    say(`second ${signal}: killing everything`);
    killAll();
    process.exit(1);
  }
  say(`${signal} received`);
  void stopAll(0);
}

// If whatever started us dies without passing a signal on (npm killed with -9, a wrapping
// shell killed by SIGTERM), we are re-parented: stop rather than leave the apps running.
function watchParent() {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid === parent || stopping) return;
    say('parent process exited');
    void stopAll(0);
  }, 500).unref();
}

async function main() {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAll); // last resort if this launcher fails: leave nothing behind
  watchParent();
  const [nameserver, ...others] = APPS;
  try {
    startApp(nameserver);
    await waitServing(nameserver);
    if (stopping) return;
    for (const spec of others) startApp(spec);
    await Promise.all(others.map(waitServing));
    await waitServing({ name: 'the master of broker-a', address: SERVICE_ADDRESS });
  } catch (err) {
    say(err.message);
    return stopAll(1);
  }
  if (!stopping) printTable();
}

void main();
