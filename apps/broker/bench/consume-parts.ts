/**
 * Parts c and d of bench:broker against one server, run the same way against the trivial server
 * (`--keep-messages`, trivial-consumption.ts) and the broker, and their table rows with the
 * trivial server as the ceiling:
 *   c  fill a backlog with the raw SendMessage generator, then drain it through ReceiveMessage
 *      (batch 32) with several receivers, acking every message: msg/s and server CPU per message
 *   d  end-to-end latency at a steady rate, open loop, long-polling receivers
 */
import type * as grpc from '@grpc/grpc-js';
import { coresOf, fmt, pct, progress, rawChannels, type Row, runSendLoad, type Service, verdict } from '@apogee/bench';
import { drain, type LatencyResult, measureLatency, type Percentiles } from './consume';

export interface ConsumeConfig {
  readonly seconds: number;
  readonly latencyWarmupSeconds: number;
  readonly backlog: number;
  readonly rate: number;
  readonly channels: number;
  readonly inflight: number;
  readonly batch: number;
  readonly body: number;
  readonly receivers: number;
  readonly latencySendBatch: number;
  readonly ackEach: boolean;
  /** Names are unique per run. */
  readonly runTag: string;
  readonly enabled: (part: string) => boolean;
}

export interface Consumed {
  c?: { msgsPerSec: number; serverCpuPerMessageUs: number };
  d?: LatencyResult;
}

/** Runs c then d (those enabled) against `server`; a line per result goes to `details`. */
export async function consumeParts(server: Service, label: string, cfg: ConsumeConfig, details: string[]): Promise<Consumed> {
  const out: Consumed = {};
  if (cfg.enabled('c')) out.c = await drainPart(server, label, cfg, details);
  if (cfg.enabled('d')) out.d = await latencyPart(server, label, cfg, details);
  return out;
}

async function drainPart(server: Service, label: string, cfg: ConsumeConfig, details: string[]): Promise<Consumed['c']> {
  const topic = `bench-c-${cfg.runTag}`;
  const clients = rawChannels(server.address, Math.max(cfg.channels, cfg.receivers));
  try {
    progress(`${label}: (c) filling a backlog of ${cfg.backlog} messages`);
    const fill = await runSendLoad(clients.slice(0, cfg.channels), { topic, batch: cfg.batch, bodyBytes: cfg.body, inflight: cfg.inflight, totalMessages: cfg.backlog });
    if (fill.failedRequests) throw new Error(`backlog fill: ${fill.failedRequests} failed requests: ${fill.firstError}`);
    details.push(`${label} c: backlog of ${fill.messages} filled at ${fmt(fill.msgsPerSec)} msg/s`);
    progress(`${label}: (c) draining with ${cfg.receivers} receivers, batch 32, ack ${cfg.ackEach ? 'per message' : 'per batch'}`);
    const serverCpu0 = server.cpuSeconds();
    const loadCpu0 = process.cpuUsage();
    const r = await drain(clients.slice(0, cfg.receivers), topic, topic, fill.messages, 32, cfg.ackEach);
    const serverCpu = server.cpuSeconds() - serverCpu0;
    const loadCpu = process.cpuUsage(loadCpu0);
    const serverCpuPerMessageUs = (serverCpu * 1e6) / r.received;
    details.push(`${label} c: drained ${r.received} (acked ${r.acked}) in ${r.seconds.toFixed(1)} s${r.note ? ` — ${r.note}` : ''}`);
    details.push(
      `${label} c: server ${coresOf(serverCpu, r.seconds)}, ${serverCpuPerMessageUs.toFixed(0)} µs CPU per message; ` +
        `receivers (this process) ${coresOf((loadCpu.user + loadCpu.system) / 1e6, r.seconds)}`,
    );
    return { msgsPerSec: r.msgsPerSec, serverCpuPerMessageUs };
  } finally {
    clients.forEach((c) => c.close());
  }
}

async function latencyPart(server: Service, label: string, cfg: ConsumeConfig, details: string[]): Promise<LatencyResult> {
  progress(`${label}: (d) latency at ${cfg.rate} msg/s for ${cfg.seconds} s, up to ${cfg.latencySendBatch} due messages per SendMessage`);
  const clients = rawChannels(server.address, 1 + cfg.receivers);
  try {
    const r = await measureLatency(clients[0], clients.slice(1), {
      topic: `bench-d-${cfg.runTag}`,
      group: `bench-d-${cfg.runTag}`,
      rate: cfg.rate,
      durationMs: cfg.seconds * 1000,
      warmupMs: cfg.latencyWarmupSeconds * 1000,
      bodyBytes: cfg.body,
      sendBatch: cfg.latencySendBatch,
    });
    details.push(`${label} d: ${r.received}/${r.sent} received; p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, p99.9 ${r.p999.toFixed(2)} ms, max ${r.max.toFixed(1)} ms${r.note ? ` — ${r.note}` : ''}`);
    const leg = (p: Percentiles): string => `p50 ${p.p50.toFixed(1)} / p99 ${p.p99.toFixed(1)} / max ${p.max.toFixed(1)} ms`;
    details.push(
      `${label} d legs: send (schedule → stored) ${leg(r.sendLeg)}; receive (stored → frame arrived) ${leg(r.receiveLeg)}; ` +
        `${r.receiveCalls} ReceiveMessage calls with messages, ${r.messagesPerCall.toFixed(1)} messages each`,
    );
    return r;
  } finally {
    clients.forEach((c: grpc.Client) => c.close());
  }
}

/** The table rows of c and d: the broker's figures, the trivial server's as the ceiling. */
export function consumedRows(table: Row[], apogee: Consumed, trivial: Consumed, rate: number, backlog: number): void {
  if (apogee.c !== undefined || trivial.c !== undefined) {
    const result = apogee.c?.msgsPerSec ?? NaN;
    const ceiling = trivial.c?.msgsPerSec ?? NaN;
    table.push({ measure: `c drain ${fmt(backlog)} backlog, msg/s`, result: fmt(result), ceiling: fmt(ceiling), ratio: pct(result / ceiling), target: '≥ 60,000', verdict: verdict(result >= 60_000) });
    const cpu = apogee.c?.serverCpuPerMessageUs ?? NaN;
    const trivialCpu = trivial.c?.serverCpuPerMessageUs ?? NaN;
    table.push({ measure: 'c server CPU µs per message', result: fmt(cpu, 1), ceiling: fmt(trivialCpu, 1), ratio: pct(trivialCpu / cpu), target: '', verdict: '' });
  }
  if (apogee.d !== undefined || trivial.d !== undefined) {
    const ms = (p: Percentiles | undefined): string => (p === undefined ? 'n/a' : `${p.p50.toFixed(2)} / ${p.p99.toFixed(2)} / ${p.p999.toFixed(2)}`);
    const p99 = apogee.d?.p99 ?? NaN;
    table.push({ measure: `d latency @ ${fmt(rate)} msg/s, p50/p99/p99.9 ms`, result: ms(apogee.d), ceiling: ms(trivial.d), ratio: '', target: 'p99 ≤ 5 ms', verdict: verdict(p99 <= 5) });
  }
}
