/**
 * What the benchmarks of every app share (`npm run bench:*`; benchmarks are scripts, not tests):
 * starting built apps as child processes and reading their CPU (common.ts), the raw
 * apache.rocketmq.v2 SendMessage load generator (send-load.ts, wire.ts), tables and percentiles,
 * and CPU-profile summaries (cpu-profile.ts).
 */
export * from './common';
export * from './cpu-profile';
export * from './send-load';
export * from './wire';
