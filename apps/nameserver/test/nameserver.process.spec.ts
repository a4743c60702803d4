import { describeAppProcess } from '@apogee/testing';

// Runs src/main.ts as a real process: flags, JSON logs, health, /metrics and SIGTERM end to end.
describeAppProcess('nameserver', { hasDataDir: false, expectedLogs: ['starting', 'listening', 'shutting down', 'stopped', 'shutdown complete'] });
