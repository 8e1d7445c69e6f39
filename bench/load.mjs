// Background load for the benches, in a process of its own so that generating it does not delay
// the measuring process: `fork('bench/load.mjs', [JSON.stringify(autocannonOptions)])`. It sends
// `{ started: true }` once running and, after the parent sends `'stop'` (or the duration ends),
// `{ result: { requests, rps, non2xx, errors, p99Ms } }`, then exits.
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2]);
const instance = autocannon(options);
let sent = false;
instance.once('start', () => process.send({ started: true }));
instance.once('done', (result) => {
  if (sent) return;
  sent = true;
  process.send({
    result: {
      requests: result.requests.total,
      rps: result.requests.total / result.duration,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
    },
  }, () => process.exit(0));
});
process.on('message', (message) => {
  if (message === 'stop') instance.stop();
});
process.on('disconnect', () => process.exit(0));
