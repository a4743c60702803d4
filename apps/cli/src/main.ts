// `apogee` (npx apogee, or node dist/apps/cli/main.js): the admin CLI. Everything is in runCli;
// the exit code is set, not forced, so pending output is flushed before the process ends.
import { runCli } from './run-cli';

void runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then((code) => {
  process.exitCode = code;
});
