// One table from the benches' last lines: every figure beside its goal and its baseline.
//
//   node bench/summary.mjs <dir> [--results bench/RESULTS.md]
//
// <dir> holds one file per bench (http.out, propagation.out, …), each ending with the bench's
// JSON line. With --results, the table and the raw lines are written there as Markdown too.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { results: { type: 'string' } } });
const dir = positionals[0];
if (dir === undefined) throw new TypeError('usage: node bench/summary.mjs <dir> [--results file]');

const runs = {};
const raw = {};
for (const file of readdirSync(dir).filter((name) => name.endsWith('.out')).sort()) {
  const text = readFileSync(join(dir, file), 'utf8');
  raw[file] = text.trim();
  const last = text.trim().split('\n').reverse().find((line) => line.startsWith('{"bench"'));
  if (last !== undefined) runs[JSON.parse(last).bench] = JSON.parse(last);
}

const rows = [];
const row = (area, figure, value, goal, met, baseline) => rows.push({ area, figure, value, goal, met, baseline });
const fixed = (n, digits = 2) => (typeof n === 'number' ? n.toFixed(digits) : 'n/a');
const missing = (bench) => row(bench, 'did not run or failed', '—', '—', false, '—');

const http = runs.http;
if (http) {
  const { ratio: r, reqPerSec: q } = http;
  // Both readings of each ratio: the median of the rounds' paired ratios (judged), and the ratio of the medians.
  const both = (key, digits = 2) => `${fixed(r[key], digits)} (${fixed(http.ratioOfMedians?.[key], digits)})`;
  row('per request', 'createServiceApp public route ÷ plain express', both('servicePublicOverPlain'), '≥ 0.75', r.servicePublicOverPlain >= 0.75, `plain express ${q.plain} req/s`);
  for (const [key, label] of [['requireAuthCookie', 'HS256 cookie'], ['requireAuthBearer', 'HS256 Bearer'], ['requireAuthEs256Cookie', 'ES256 cookie'], ['requireAuthEs256Bearer', 'ES256 Bearer']]) {
    row('per request', `requireAuth route ÷ the same app's public route, ${label}`, both(key, 3), '≥ 0.95', r[key] >= 0.95, 'public route, same process');
  }
  row('per request', 'ours (token cache, as services run) ÷ express-jwt, Bearer', both('oursOverExpressJwt'), '> 1', r.oursOverExpressJwt > 1, `express-jwt ${q['express-jwt']} req/s`);
  row('per request', 'ours (token cache) ÷ passport-jwt, Bearer', both('oursOverPassportJwt'), '> 1', r.oursOverPassportJwt > 1, `passport-jwt ${q['passport-jwt']} req/s`);
  row('per request', 'ours without the token cache ÷ express-jwt, Bearer', both('oursNoCacheOverExpressJwt'), '> 1', r.oursNoCacheOverExpressJwt > 1, 'equal settings: jsonwebtoken on every request');
  row('per request', 'round-to-round spread of one case, (max − min) ÷ median', `${fixed((http.roundSpread ?? Number.NaN) * 100, 0)} %`, '—', true, 'the noise the ratios above stand in');
  row('option #1', 'createServiceApp requireAuth (cookie) ÷ asking auth on every request', both('serviceOverAskAuth'), 'shown', true, `option #1 ${q['ask-auth']} req/s`);
} else missing('http');

const prop = runs.propagation;
if (prop) {
  const { afterBanAnswered: after, banToRefused: total, baselineRoundTrip: rtt, answerToPublished: relay } = prop.ms;
  const load = prop.load > 0 ? `, background ${prop.load}% of capacity` : ', no background load';
  row('propagation', `p99 ban answered → first refusal (${prop.bans} bans${load})`, `${fixed(after.p99)} ms`, '≤ 5 ms', after.p99 <= 5, `GET round trip p99 ${fixed(rtt.p99)} ms`);
  row('propagation', 'p99 ban request → first refusal', `${fixed(total.p99)} ms`, '≤ 10 ms', total.p99 <= 10, `p50 ${fixed(total.p50)} ms`);
  row('propagation', 'p50 ban answered → first refusal', `${fixed(after.p50)} ms`, '—', true, `GET round trip p50 ${fixed(rtt.p50)} ms`);
  if (relay) row('propagation', 'of which auth\'s relay: ban answered → event on NATS, p50 / p99', `${fixed(relay.p50)} / ${fixed(relay.p99)} ms`, '—', true, '—');
} else missing('propagation');

const replay = runs.replay;
if (replay) {
  row('replay', `${replay.events} bans: new replica's ban sync ready`, `${fixed(replay.ms.banSyncReadyMedian, 0)} ms`, '≤ 500 ms', replay.events >= 100_000 && replay.ms.banSyncReadyMedian <= 500, `bare read ${fixed(replay.ms.bareReadMedian, 0)} ms (${fixed(replay.ratio.banSyncOverBareRead)}×)`);
} else missing('replay');

const memory = runs.memory;
if (memory) {
  const b = memory.bytesPerEntry;
  row('memory', `bytes per ban-list entry at ${memory.entries} entries, ids not counted`, fixed(b.banList, 1), '≤ 80', memory.entries >= 1_000_000 && b.banList <= 80, `lru-cache alone ${fixed(b.lruCacheAlone, 1)}, with an object per entry ${fixed(b.lruCacheWithObjects, 1)}`);
} else missing('memory');

const verify = runs.verify;
if (verify) {
  const cached = verify.cases.find((c) => c.name.startsWith('ES256') && c.name.includes('cache') && c.name.includes('ban'));
  if (cached) row('verify', `${cached.name}, ÷ HS256 createTokenVerifier`, fixed(cached.vsHs256Verifier), 'shown', true, 'in one process, no HTTP');
} else missing('verify');

const client = runs.client;
if (client) {
  row('web client', 'home page ÷ the currentuser call it makes, median latency', fixed(client.ratio.homePageOverCurrentuser), 'shown', true, `currentuser ${fixed(client.ms.currentuser, 3)} ms, page ${fixed(client.ms.homePage, 3)} ms`);
  row('web client', 'orders page ÷ /api/orders, median latency', fixed(client.ratio.ordersPageOverOrdersApi), 'shown', true, `/api/orders ${fixed(client.ms.ordersApi, 3)} ms, page ${fixed(client.ms.ordersPage, 3)} ms`);
} else missing('client');

const machine = Object.values(runs)[0]?.machine;
const header = ['area', 'figure', 'value', 'goal', 'met', 'baseline (same run)'];
const cells = rows.map((r) => [r.area, r.figure, r.value, r.goal, r.met ? 'yes' : 'NO', r.baseline]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
const line = (c) => c.map((v, i) => String(v).padEnd(widths[i])).join('  ');
console.log(line(header));
for (const c of cells) console.log(line(c));
if (machine) console.log(`machine: ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, ${machine.platform}`);

if (values.results) {
  const md = [
    '# Benchmark results',
    '',
    `The last full \`npm run bench\`, ${new Date().toISOString().slice(0, 10)}, on ${machine ? `${machine.cpus} × ${machine.cpu}, Node ${machine.node}` : 'an unknown machine'}.`,
    'Speeds are ratios against a baseline measured in the same run; the bench scripts and what each measures are in `bench/README.md`.',
    'An http ratio is the median of the rounds\' paired ratios, with the ratio of the two cases\' median req/s in brackets.',
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...cells.map((c) => `| ${c.join(' | ')} |`),
    '',
    '## Output of each bench',
    '',
    ...Object.entries(raw).flatMap(([file, text]) => [`### ${file.replace(/\.out$/, '')}`, '', '```', text, '```', '']),
  ].join('\n');
  writeFileSync(values.results, md);
  console.log(`summary: wrote ${values.results}`);
}
