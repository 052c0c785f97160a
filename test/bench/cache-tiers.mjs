// Benchmark (not part of `npm test`): requests/s and p99 of an authenticated REST call when the
// token is answered by L1, by L2 (Redis) and by the store (PostgreSQL), side by side in one run,
// then the store hit again with 1,000,000 tokens in the table instead of 1,000 (it must stay flat).
// Load generator: autocannon. The gateway runs as its own process (`node dist/main.js`, with the
// in-process sample upstream), so the load generator does not share its event loop.
//
//   npm run build && node test/bench/cache-tiers.mjs
//   env: BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
//        BENCH_REDIS_URL (default redis://127.0.0.1:6379), BENCH_SECONDS per round (default 4), BENCH_ROUNDS (default 3),
//        BENCH_CONNECTIONS (default 16); each figure is the median over the rounds
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { openStore } from '../../dist/store/index.js';

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const ROTATION = 1000; // distinct tokens cycled through for L2 and store hits (L1 holds 100)
const who = { actor: 'bench' };

/** The secret of bulk token i: a 64-character legacy token, computable in SQL and here. */
const secretSql = (i) => `md5('gatehouse-bench-a' || ${i}) || md5('gatehouse-bench-b' || ${i})`;

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startGateway(dbUrl, config) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  const port = await freePort();
  const proc = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: dbUrl, GATEHOUSE_CONFIG: file, METRICS_LISTEN: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {}
    if (i > 300) throw new Error('gateway did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

function run(url, tokens, seconds) {
  let i = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/Api/v6/envelope/1`,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, apiToken: tokens[i++ % tokens.length] } }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A schema of its own with one user and `count` enabled legacy tokens (bulk insert in SQL). */
async function seedSchema(admin, count) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`create schema ${schema}`);
  const dbUrl = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const store = openStore(dbUrl);
  await store.migrate();
  await store.admin.createOrganization(who, 'Bench');
  await store.admin.createRole(who, 'Bench', 'Integrators', ['API'], []);
  const user = await store.admin.createUser(who, 'Bench', 'bench@example.test', ['Integrators']);
  await store.close();
  const t0 = Date.now();
  for (let from = 1; from <= count; from += 100_000) {
    await admin.query(
      `insert into ${schema}.api_tokens (id, user_id, name, token_hash, hint, origin, enabled, expires_at, created_at)
       select 'bench-' || i, $1, 'bench ' || i, encode(sha256(convert_to(${secretSql('i')}, 'UTF8')), 'hex'),
              'legacy', 'legacy', 1, null, now()::text
       from generate_series($2::int, $3::int) as i`,
      [user.id, from, Math.min(from + 99_999, count)],
    );
  }
  await admin.query(`analyze ${schema}.api_tokens`);
  process.stderr.write(`${schema}: ${count} tokens inserted in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return { schema, dbUrl };
}

async function main() {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  const prefix = `gatehouse-bench-${randomBytes(4).toString('hex')}:`;
  const gateways = [];
  const schemas = [];
  try {
    const small = await seedSchema(admin, 1_000);
    const large = await seedSchema(admin, 1_000_000);
    schemas.push(small.schema, large.schema);
    const secretsOf = async (ids) =>
      (await admin.query(`select ${secretSql('i')} as s from unnest($1::int[]) as i`, [ids])).rows.map((r) => r.s);
    const rotation1k = await secretsOf(Array.from({ length: ROTATION }, (_, k) => k + 1));
    // Spread over the whole table, so the 1M case does not read a hot corner of the index.
    const rotation1m = await secretsOf(Array.from({ length: ROTATION }, (_, k) => 1 + k * 997 + (k % 991)));
    const quiet = { log: { level: 'warn', access: false }, lastUsed: { flushIntervalMs: 10000 } };
    const start = async (dbUrl, cfg) => {
      const g = await startGateway(dbUrl, { ...quiet, ...cfg });
      gateways.push(g);
      return g;
    };
    const cases = [
      { tier: 'L1 hit (1 token)', gw: await start(small.dbUrl, {}), tokens: [rotation1k[0]] },
      {
        tier: `L2 hit (${ROTATION} tokens, L1 of 100)`,
        gw: await start(small.dbUrl, { cache: { l1MaxEntries: 100 }, redis: { url: REDIS_URL, keyPrefix: prefix } }),
        tokens: rotation1k,
      },
      { tier: 'store hit, 1,000 tokens in table', gw: await start(small.dbUrl, { cache: { l1MaxEntries: 100 } }), tokens: rotation1k },
      { tier: 'store hit, 1,000,000 tokens in table', gw: await start(large.dbUrl, { cache: { l1MaxEntries: 100 } }), tokens: rotation1m },
    ];
    for (const c of cases) await run(c.gw.url, c.tokens, 2); // warm: JIT, pools, and the tier under test
    // Rounds interleave the cases, so a burst of load from elsewhere on the machine hits all of them.
    const samples = new Map(cases.map((c) => [c.tier, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) samples.get(c.tier).push(await run(c.gw.url, c.tokens, SECONDS));
    }
    const rows = cases.map((c) => {
      const rs = samples.get(c.tier);
      return {
        tier: c.tier,
        'req/s': Math.round(median(rs.map((r) => r.requests.average))),
        'p50 ms': median(rs.map((r) => r.latency.p50)),
        'p99 ms': median(rs.map((r) => r.latency.p99)),
        failed: rs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
      };
    });
    console.table(rows);
    console.log(JSON.stringify({ seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, rows }));
  } finally {
    for (const g of gateways) await g.stop();
    for (const s of schemas) await admin.query(`drop schema ${s} cascade`);
    await admin.end();
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
