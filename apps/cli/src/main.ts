// `apogee` (npx apogee, or node dist/apps/cli/main.js): the admin CLI. Everything is in runCli;
// the exit code is set, not forced, so pending output is flushed before the process ends.
import { runCli } from './run-cli';

const argv = process.argv.slice(2);
const [noun, verb] = argv;
const follows = noun === 'message' && verb === 'tail';
const interrupted = new AbortController();
if (follows) {
  // Ctrl-C stops `message tail` cleanly (it reports what it printed); a second one exits at once.
  process.once('SIGINT', () => {
    interrupted.abort();
    process.once('SIGINT', () => process.exit(130));
  });
}

void runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: interrupted.signal }).then((code) => {
  process.exitCode = code;
  // The official RocketMQ client (message send) may leave timers behind after shutdown: once the
  // output is flushed, nothing is left to do.
  if (noun === 'message') process.stdout.write('', () => process.exit(code));
});
