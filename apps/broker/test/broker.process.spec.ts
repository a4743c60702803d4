import { describeAppProcess } from '@apogee/testing';

// Runs src/main.ts as a real process: flags, JSON logs, health, /metrics and SIGTERM end to end.
describeAppProcess('broker', {
  hasDataDir: true,
  args: ['--nameservers', ''], // standalone: registration has its own tests
  crossFieldBadArgs: ['--nameservers', '127.0.0.1:9876,127.0.0.1:9876'],
  expectedLogs: [
    'starting',
    'store recovered',
    'metadata opened',
    'listening',
    'now master of the broker group',
    'no nameservers configured',
    'shutting down',
    'stopped',
    'store closed',
    'metadata closed',
    'shutdown complete',
  ],
});
