// `node test/bench/ab.mjs`: variants of the gateway side by side — two builds, two configs, or the
// L2 path against L1 — loaded in alternation with short runs, so this machine's drifting speed
// lands on every variant alike. Prints, per variant, the median of its round-by-round ratios to
// the first variant (requests/s and CPU per request), the figure to read.
//
// AB_VARIANTS: a JSON list; each variant has a `name`, and optionally `build` (a dist directory,
// default ./dist; a copy of an older dist under the repository, so it finds node_modules, config/
// and wsdl/ beside it), `config` (merged over the default config), `l2: true` (the L2 row's cache:
// an L1 of 100, Redis), `tokens: "many"` (round-robin over 500 tokens instead of one).
// AB_ROUNDS (8), AB_SECONDS (3). Needs Redis for `l2` variants (BENCH_REDIS_URL).
//
//   AB_VARIANTS='[{"name":"L1"},{"name":"L2","l2":true,"tokens":"many"}]' node test/bench/ab.mjs
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { l2Config, seedStore, startGateway } from './lib/gateway-fixture.mjs';
import { children, load, loadMeasured, startServer } from './lib/processes.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const ROUNDS = Number(process.env.AB_ROUNDS ?? 8);
const SECONDS = Number(process.env.AB_SECONDS ?? 3);
const variants = JSON.parse(process.env.AB_VARIANTS ?? '[{"name":"L1"},{"name":"L2","l2":true,"tokens":"many"}]');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ab-'));
const { dbUrl, hot, many } = await seedStore(ROOT, dir, variants.some((v) => v.tokens === 'many') ? 500 : 0);
let port = 19100 + Math.floor(Math.random() * 300);
const directPort = port++;
await startServer('direct', process.execPath, [join(HERE, 'lib/direct.mjs'), String(directPort)]);
try {
  for (const v of variants) {
    const p = port++;
    const config = { ...(v.l2 ? l2Config(`ab-${process.pid}-${v.name}:`) : {}), ...v.config };
    // A variant on another build gets a store of its own, seeded by that build (its migrations)
    const own = v.build ? await seedStore(ROOT, mkdtempSync(join(tmpdir(), 'gatehouse-ab-')), v.tokens === 'many' ? 500 : 0, resolve(v.build)) : { dbUrl, hot, many };
    const child = await startGateway({ name: v.name, build: resolve(v.build ?? join(ROOT, 'dist')), dir, port: p, dbUrl: own.dbUrl, upstream: `http://127.0.0.1:${directPort}`, config });
    v.pid = child.pid;
    v.job = { url: `http://127.0.0.1:${p}/Api/v6/envelope/123`, connections: 32, seconds: SECONDS, ...(v.tokens === 'many' ? { tokens: own.many } : { token: own.hot }) };
    await load({ ...v.job, seconds: 2 }); // warm-up
    v.runs = [];
  }
  // Every round loads each variant once, in alternating order
  for (let r = 0; r < ROUNDS; r++) for (const v of r % 2 ? [...variants].reverse() : variants) v.runs.push(await loadMeasured(v.pid, v.job));
  const [base] = variants;
  for (const v of variants) {
    const rps = median(v.runs.map((x, i) => x.rps / base.runs[i].rps));
    const cpu = median(v.runs.map((x, i) => x.cpuPer10k / base.runs[i].cpuPer10k));
    const errors = v.runs.reduce((a, x) => a + x.non2xx + x.errors, 0);
    console.log(`${v.name.padEnd(16)} ${Math.round(median(v.runs.map((x) => x.rps))).toString().padStart(6)} req/s  ${(median(v.runs.map((x) => x.cpuPer10k)) * 100).toFixed(0).padStart(4)} µs CPU/request  vs ${base.name}: req/s ${rps.toFixed(3)}×, CPU ${cpu.toFixed(3)}×  errors ${errors}`);
  }
} finally {
  for (const c of children) c.kill('SIGKILL');
}
