// Started by the local runner (scripts/dev.mjs) with a pipe for stdin: it reads the pids of the
// runner's children, one a line. When the pipe closes without a `done` line (the runner was
// killed, even with SIGKILL, or the terminal went away), it stops them: SIGTERM, then SIGKILL after
// 10 s. It ignores the signals the runner's process group gets, so it outlives the runner.
import { isAlive } from './processes.mjs';

const pids = new Set();
let done = false;
let rest = '';

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => undefined);


process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\n');
  rest = lines.pop();
  for (const line of lines) {
    if (line === 'done') done = true;
    else if (/^\d+$/.test(line)) pids.add(Number(line));
  }
});
process.stdin.on('close', () => {
  if (done) process.exit(0);
  const living = () => [...pids].filter(isAlive);
  for (const pid of living()) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  const timer = setInterval(() => {
    const left = living();
    if (left.length === 0 || Date.now() > deadline) {
      for (const pid of left) process.kill(pid, 'SIGKILL');
      clearInterval(timer);
      process.exit(0);
    }
  }, 100);
});
