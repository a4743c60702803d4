import { describeAppProcess } from '@apogee/testing';

// Runs src/main.ts as a real process: flags, JSON logs, health, /metrics and SIGTERM end to end.
describeAppProcess('ha-replicator', {
  hasDataDir: true,
  expectedLogs: ['starting', 'listening', 'acting: following broker groups', 'shutting down', 'stopped acting', 'stopped', 'shutdown complete'],
});
