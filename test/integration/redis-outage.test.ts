// Redis stopped and restarted, or frozen (SIGSTOP: slower than the command timeout), under load:
// no valid request fails, and a token revoked meanwhile — by a writer without Redis, so only the
// change feed knows — is never accepted once the revocation is a poll old, Redis back or not.
import http from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/tokens/token-format.js';
import type { Store } from '../../src/store/index.js';
import { seedOrganization, seedUser, TEST_ACTOR, type SeededUser } from '../helpers/fixtures.js';
import { startOwnRedis, uniquePrefix, type OwnRedis } from '../helpers/redis-server.js';
import { useGateway } from '../helpers/use-gateway.js';
import { L2_FORMAT } from '../../src/cache/l2-redis.js';

const POLL_MS = 200;
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

let own: OwnRedis;
const prefix = uniquePrefix('outage');
// A redis-server of the test's own: up before the gateway (these hooks are registered before
// useGateway's), stopped once the gateway has closed.
beforeAll(async () => {
  own = await startOwnRedis();
});
afterAll(async () => {
  await own?.stop();
});
const { ts, gw, reopen } = useGateway({
  overrides: () => ({
    cache: { l1MaxEntries: 1000, l1TtlMs: 150, negativeTtlMs: 100, staleMaxMs: 0 },
    redis: { url: own.url, keyPrefix: prefix, commandTimeoutMs: 100, probeIntervalMs: 100, tombstoneMs: 500 },
  }),
});
let writer: Store;
let valid: SeededUser[];

function status(token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(`${gw.url}/Api/v6/envelope/1`, { agent, headers: { apiToken: token } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', () => resolve(0));
  });
}

async function readyz(): Promise<{ redis: string; degraded: boolean }> {
  return (await fetch(`${gw.url}/readyz`)).json() as Promise<{ redis: string; degraded: boolean }>;
}

async function until(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Valid tokens from 4 workers, and the token under test from a fifth, until stopped. */
function load(watched: string) {
  let running = true;
  const failures: number[] = [];
  let ok = 0;
  const watchedResults: { sentAt: number; status: number }[] = [];
  const workers = [0, 1, 2, 3].map(async (w) => {
    for (let i = w; running; i++) {
      const s = await status(valid[i % valid.length]!.token);
      if (s === 200) ok++;
      else failures.push(s);
    }
  });
  const watcher = (async () => {
    while (running) {
      const sentAt = Date.now();
      watchedResults.push({ sentAt, status: await status(watched) });
    }
  })();
  return {
    failures,
    watchedResults,
    get ok() {
      return ok;
    },
    async stop() {
      running = false;
      await Promise.all([...workers, watcher]);
    },
  };
}

beforeAll(async () => {
  // A second connection to the store and no Redis: the CLI run without REDIS_URL.
  writer = reopen();
  const org = (await seedOrganization(ts.store)).name;
  valid = [];
  for (let i = 0; i < 3; i++) valid.push(await seedUser(ts.store, { org }));
  await until(async () => (await readyz()).redis === 'up');
}, 30_000);

afterAll(() => {
  agent.destroy();
});

const lines = (what: string) => gw.logs.filter((l) => l.includes(what)).length;

describe('Redis outages under load', () => {
  it('Redis stopped and restarted: no valid request fails; the revoked token stays refused', async () => {
    const victim = await seedUser(ts.store, { org: valid[0]!.org });
    const raw = new Redis(own.url);
    await until(async () => (await status(victim.token)) === 200 && (await raw.get(`${prefix}${L2_FORMAT}:token:${hashToken(victim.token)}`)) !== null);
    raw.disconnect();
    const downBefore = lines('redis unavailable');
    const run = load(victim.token);
    await sleep(200);

    await own.stop();
    await until(async () => {
      const r = await readyz();
      return r.redis === 'down' && r.degraded;
    });
    await writer.admin.setApiTokenEnabled(TEST_ACTOR, victim.tokenId, false);
    const revokedAt = Date.now();
    await sleep(300);
    await own.start();
    await until(async () => {
      const r = await readyz();
      return r.redis === 'up' && !r.degraded;
    });
    const backAt = Date.now();
    await sleep(400);
    await run.stop();

    expect(run.failures).toEqual([]);
    expect(run.ok).toBeGreaterThan(20);
    const acceptedLate = run.watchedResults.filter((r) => r.sentAt > revokedAt + 2 * POLL_MS && r.status === 200);
    expect(acceptedLate).toEqual([]);
    expect(run.watchedResults.filter((r) => r.sentAt > backAt).length).toBeGreaterThan(5);
    // Each state change logged once, not once per request.
    expect(lines('redis unavailable') - downBefore).toBeGreaterThanOrEqual(1);
    expect(lines('redis unavailable') - downBefore).toBeLessThanOrEqual(10);
    expect(lines('subscription restored, L1 emptied')).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('Redis frozen (slower than the command timeout): no valid request fails; L2 cannot resurrect the revoked token', async () => {
    const victim = await seedUser(ts.store, { org: valid[0]!.org });
    const key = `${prefix}${L2_FORMAT}:token:${hashToken(victim.token)}`;
    const raw = new Redis(own.url);
    // Let the creation's tombstone pass, then get the enabled record into L2.
    await until(async () => (await status(victim.token)) === 200 && ((await raw.get(key)) ?? '').includes('"enabled":true'), 10_000);
    raw.disconnect();
    const upBefore = lines('redis available again');
    const run = load(victim.token);
    await sleep(200);

    own.pause();
    await until(async () => (await readyz()).redis === 'down');
    await writer.admin.setApiTokenEnabled(TEST_ACTOR, victim.tokenId, false);
    const revokedAt = Date.now();
    await sleep(3 * POLL_MS); // the follower has seen the change; L2 still holds the enabled record
    own.resume();
    await until(async () => (await readyz()).redis === 'up');
    const backAt = Date.now();
    await sleep(400);
    await run.stop();

    expect(run.failures).toEqual([]);
    const acceptedLate = run.watchedResults.filter((r) => r.sentAt > revokedAt + 2 * POLL_MS && r.status === 200);
    expect(acceptedLate).toEqual([]);
    expect(run.watchedResults.filter((r) => r.sentAt > backAt).every((r) => r.status === 401)).toBe(true);
    expect(lines('redis available again') - upBefore).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('never writes a token secret in a log line', () => {
    const all = gw.logs.join('\n');
    for (const u of valid) expect(all).not.toContain(u.token);
  });
});
