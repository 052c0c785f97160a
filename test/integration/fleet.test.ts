// Two gateway processes sharing the real Redis and the store (SQLite file or PostgreSQL schema):
// a token disabled by a writer is refused by both instances, and the propagation delay is
// measured over 100 tries. A CLI write without Redis reaches them through the change feed,
// L2 included.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishStoreEvictions, type EvictionPublisher } from '../../src/cache/eviction-publisher.js';
import { hashToken } from '../../src/tokens/token-format.js';
import { loadConfig } from '../../src/config/load.js';
import { startSampleUpstream } from '../../src/sample-upstream/server.js';
import { Redis } from 'ioredis';
import { seedUser, TEST_ACTOR } from '../helpers/fixtures.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/processes.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-server.js';
import { TEST_DB } from '../helpers/test-store.js';
import { useGateway } from '../helpers/use-gateway.js';
import { L2_FORMAT } from '../../src/cache/l2-redis.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const TRIES = 100;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

const prefix = uniquePrefix(`fleet-${TEST_DB}`);
// The store, alice, and the Redis keys under `prefix` cleared at the end; the gateways are processes.
const { ts, users: { alice } } = useGateway({ gateway: false, users: { alice: {} }, redisPrefix: prefix });
let sample: Awaited<ReturnType<typeof startSampleUpstream>>;
let a: GatewayProcess;
let b: GatewayProcess;
let writer: EvictionPublisher;
const identitySecret = randomBytes(32).toString('base64url');

function status(base: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/Api/v6/envelope/1`, { agent, headers: { apiToken: token } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
  });
}

async function until(base: string, token: string, want: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while ((await status(base, token)) !== want) {
    if (Date.now() > end) throw new Error(`still not ${want}`);
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

beforeAll(async () => {
  sample = await startSampleUpstream({ identitySecret, issuer: 'gatehouse', audience: 'gatehouse-upstream' });
  const env = {
    DATABASE_URL: ts.url,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    UPSTREAM_URL: sample.url,
    IDENTITY_SECRET: identitySecret,
    // The change feed is polled rarely here, so what is measured is the Redis channel.
    CHANGE_FEED_POLL_MS: '60000',
  };
  [a, b] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
  // This test process writes as the CLI does with REDIS_URL set: commit, then publish.
  writer = publishStoreEvictions(ts.store, loadConfig({ NODE_ENV: 'test', REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix }).redis);
}, 60_000);

afterAll(async () => {
  await writer?.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await sample?.close();
  agent.destroy();
});

describe('two gateway processes sharing Redis and the store', () => {
  it(`refuse a disabled token on every instance; propagation over ${TRIES} tries`, async () => {
    await until(a.url, alice.token, 200);
    await until(b.url, alice.token, 200);
    const delays: number[] = [];
    for (let i = 0; i < TRIES; i++) {
      // Both instances hold the enabled token in L1.
      expect(await status(a.url, alice.token)).toBe(200);
      expect(await status(b.url, alice.token)).toBe(200);
      await ts.store.admin.setApiTokenEnabled(TEST_ACTOR, alice.tokenId, false);
      const committed = performance.now();
      const target = i % 2 === 0 ? b : a;
      await until(target.url, alice.token, 401, 2000);
      delays.push(performance.now() - committed);
      expect(await status(i % 2 === 0 ? a.url : b.url, alice.token)).toBe(401);
      await ts.store.admin.setApiTokenEnabled(TEST_ACTOR, alice.tokenId, true);
      await until(a.url, alice.token, 200, 2000);
      await until(b.url, alice.token, 200, 2000);
    }
    delays.sort((x, y) => x - y);
    const p50 = percentile(delays, 50);
    const p99 = percentile(delays, 99);
    const degradations = (a.output() + b.output()).split("\n").filter((l) => l.includes("redis unavailable")).length;
    console.log(`[fleet ${TEST_DB}] redis degradations logged (command timeouts on a loaded machine): ${degradations}`);
    console.log(`[fleet ${TEST_DB}] disable → refused by the other instance over ${TRIES} tries: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${delays.at(-1)!.toFixed(1)} ms`);
    // Target p99 < 50 ms; asserted with headroom for a loaded 2-core machine.
    expect(p99).toBeLessThan(250);
  }, 120_000);

  it('a CLI write without Redis reaches the instances through the change feed, L2 included', async () => {
    // A third instance that polls the change feed often (the two above poll every 60 s).
    const c = await startGatewayProcess({
      DATABASE_URL: ts.url,
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      UPSTREAM_URL: sample.url,
      IDENTITY_SECRET: identitySecret,
      CHANGE_FEED_POLL_MS: '100',
    });
    const r = new Redis(SHARED_REDIS_URL);
    try {
      const bob = await seedUser(ts.store);
      const l2Key = `${prefix}${L2_FORMAT}:token:${hashToken(bob.token)}`;
      // Creating the token tombstoned its key (a negative entry may have existed), and so does c's
      // follower when it reads that change: let both pass.
      await new Promise((res) => setTimeout(res, 400));
      await r.del(l2Key);
      await until(c.url, bob.token, 200);
      for (let i = 0; i < 100 && !(await r.get(l2Key)); i++) await new Promise((res) => setTimeout(res, 10));
      expect(await r.get(l2Key)).toContain('"enabled":true');
      // The CLI, run without REDIS_URL: only the change feed carries the write.
      await promisify(execFile)(process.execPath, [CLI, 'token', 'disable', '--id', bob.tokenId], {
        env: { PATH: process.env.PATH, NODE_ENV: 'test', DATABASE_URL: ts.url },
      });
      const written = performance.now();
      // The follower of instance c removes the record from L2 too, so no instance can read it back.
      const end = Date.now() + 3000;
      while ((await r.get(l2Key))?.includes('"enabled":true')) {
        if (Date.now() > end) throw new Error('L2 still holds the enabled record');
        await new Promise((res) => setTimeout(res, 10));
      }
      const l2Gone = performance.now() - written;
      await until(c.url, bob.token, 401, 3000);
      console.log(`[fleet ${TEST_DB}] CLI without Redis: L2 entry invalidated at most ${l2Gone.toFixed(0)} ms after the CLI process exited (poll 100 ms)`);
      expect(l2Gone).toBeLessThan(1000);
    } finally {
      r.disconnect();
      await c.stop();
    }
  }, 30_000);
});
