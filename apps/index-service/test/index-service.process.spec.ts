import { describeAppProcess } from '@apogee/testing';

// Runs src/main.ts as a real process: flags, JSON logs, health, /metrics and SIGTERM end to end.
describeAppProcess('index-service', { hasDataDir: true, expectedLogs: ['starting', 'key index opened', 'listening', 'shutting down', 'stopped', 'shutdown complete'] });
