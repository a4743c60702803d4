import { describeAppProcess } from '@apogee/testing';

// Runs src/main.ts as a real process: flags, JSON logs, health, /metrics and SIGTERM end to end.
describeAppProcess('broker', {
  hasDataDir: true,
  expectedLogs: ['starting', 'store recovered', 'listening', 'shutting down', 'stopped', 'store closed', 'shutdown complete'],
});
