// Soak (short form; the long form is test/bench/soak.mjs, which runs this file for minutes):
// two gateways sharing the store and Redis, concurrent valid traffic on both, and a churn of
// tokens created, enabled, disabled and deleted through the settings API of one of them. Every
// single response is checked: no valid token refused, no revoked token accepted once the
// revocation is older than the propagation bound, no 5xx, and the heap stays flat.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUser } from '../helpers/fixtures.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-server.js';
import type { TestGateway } from '../helpers/test-gateway.js';
import { TEST_DB } from '../helpers/test-store.js';
import { useGateway } from '../helpers/use-gateway.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 10);
/** A change made through one instance is seen by every instance within this (eviction channel, else the change-feed poll). */
const PROPAGATION_MS = 1000;
const VALID_WORKERS = 4;
const CHURN_WORKERS = 2;
const HEAP_GROWTH_MB = 40;

const shared = { redis: { url: SHARED_REDIS_URL, keyPrefix: uniquePrefix('soak') }, abuse: { failuresPerIp: 0, failuresPerToken: 0, windowSeconds: 60, tokenRequestsPerSecond: 0 } };
// Two gateways: the default one (the owner's settings session is on it) and one on its own store connection.
const { ts, gw, users: { owner }, sessions: { owner: session }, startGateway } = useGateway({
  overrides: shared,
  users: { owner: { signIn: true } },
  redisPrefix: shared.redis.keyPrefix,
});
let gws: TestGateway[] = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

beforeAll(async () => {
  gws = [gw, await startGateway({ overrides: shared, ownConnection: true })];
});
afterAll(() => {
  agent.destroy();
});

function call(base: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(`${base}/Api/v6/envelope/7`, { agent, headers: { apiToken: token } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
  });
}

/** What the churn has done to a token, with when. */
interface ChurnToken {
  secret: string;
  enabledAt?: number;
  /** When the disable/delete call was sent: from then on a 401 is no refusal of a valid token. */
  revoking?: number;
  revokedAt?: number;
}

describe(`soak (${SECONDS} s, ${TEST_DB})`, () => {
  it('loses nothing: every response checked', { timeout: (SECONDS + 60) * 1000 }, async () => {
    const stable = [owner.token, (await seedUser(ts.store, { org: owner.org })).token, (await seedUser(ts.store)).token];
    const counts = { valid: 0, churnCalls: 0, created: 0, enabled: 0, disabled: 0, deleted: 0, revokedChecked: 0, enabledChecked: 0, validRefused: 0, revokedAccepted: 0, fiveXx: 0, errors: 0 };
    const problems: string[] = [];
    const churn: ChurnToken[] = [];
    const end = Date.now() + SECONDS * 1000;
    const heap: number[] = [];
    const sampler = setInterval(() => {
      // The test harness keeps every log line in memory; that is not the gateway's heap
      for (const g of gws) g.logs.length = 0;
      heap.push(process.memoryUsage().heapUsed);
    }, 250);

    const validWorker = async (i: number) => {
      while (Date.now() < end) {
        const status = await call(gws[i % gws.length]!.url, stable[i % stable.length]!);
        // a short breath per call: the soak checks correctness, it must not starve parallel suites
        await new Promise((r) => setTimeout(r, 2));
        counts.valid++;
        if (status >= 500) counts.fiveXx++;
        if (status === 0) counts.errors++;
        if (status !== 200) {
          counts.validRefused++;
          problems.push(`stable token got ${status}`);
        }
      }
    };

    const churnWorker = async (i: number) => {
      while (Date.now() < end) {
        // Half the calls on a token not revoked yet (so enabled ones are checked too), half on any
        const live = churn.filter((c) => c.revokedAt === undefined);
        const pool = live.length > 0 && Math.random() < 0.5 ? live : churn;
        const t = pool[Math.floor(Math.random() * pool.length)];
        if (!t) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        const started = Date.now();
        const status = await call(gws[i % gws.length]!.url, t.secret);
        counts.churnCalls++;
        if (status >= 500) counts.fiveXx++;
        if (status === 0) counts.errors++;
        // Judged on when the call started, against what the churn had done by then
        const mustRefuse = t.revokedAt !== undefined && started > t.revokedAt + PROPAGATION_MS;
        const mustAccept = t.enabledAt !== undefined && t.revoking === undefined && started > t.enabledAt + PROPAGATION_MS;
        if (mustRefuse) counts.revokedChecked++;
        if (mustAccept) counts.enabledChecked++;
        if (mustRefuse && status !== 401) {
          counts.revokedAccepted++;
          problems.push(`revoked token got ${status} ${started - t.revokedAt!} ms after revocation`);
        }
        if (mustAccept && status !== 200 && Date.now() < end) {
          // (a call whose answer raced the revocation that followed is not a refusal of a valid token)
          if (t.revoking === undefined) {
            counts.validRefused++;
            problems.push(`enabled token got ${status} ${started - t.enabledAt!} ms after enabling`);
          }
        }
      }
    };

    const churner = async () => {
      let n = 0;
      while (Date.now() < end) {
        const created = await session.call({ method: 'POST', template: '/tokens', body: { name: `soak ${n++}` } });
        expect(created.status).toBe(201);
        counts.created++;
        const t: ChurnToken = { secret: created.body.secret as string };
        const id = created.body.token.id as string;
        churn.push(t);
        await new Promise((r) => setTimeout(r, 150));
        expect((await session.call({ method: 'PATCH', template: '/tokens/{id}', path: `/tokens/${id}`, body: { enabled: true } })).status).toBe(200);
        t.enabledAt = Date.now();
        counts.enabled++;
        await new Promise((r) => setTimeout(r, PROPAGATION_MS + 200 + Math.random() * 600));
        t.revoking = Date.now();
        if (n % 2 === 0) {
          expect((await session.call({ method: 'PATCH', template: '/tokens/{id}', path: `/tokens/${id}`, body: { enabled: false } })).status).toBe(200);
          counts.disabled++;
        } else {
          expect((await session.call({ method: 'DELETE', template: '/tokens/{id}', path: `/tokens/${id}` })).status).toBeLessThan(300);
          counts.deleted++;
        }
        t.revokedAt = Date.now();
        // keep the pool bounded: old revoked tokens keep being tried for a while, then retire
        if (churn.length > 20) churn.shift();
      }
    };

    await Promise.all([...Array.from({ length: VALID_WORKERS }, (_, i) => validWorker(i)), ...Array.from({ length: CHURN_WORKERS }, (_, i) => churnWorker(i)), churner()]);
    clearInterval(sampler);

    // Heap: the median of the last quarter against the median of the second quarter (after warm-up)
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const q = Math.floor(heap.length / 4);
    const growthMb = (median(heap.slice(heap.length - q)) - median(heap.slice(q, 2 * q))) / 2 ** 20;
    console.log(`soak ${TEST_DB} ${SECONDS}s: ${JSON.stringify({ ...counts, heapGrowthMb: Number(growthMb.toFixed(1)) })}`);

    expect(problems.slice(0, 5)).toEqual([]);
    expect(counts.fiveXx).toBe(0);
    expect(counts.errors).toBe(0);
    expect(counts.valid).toBeGreaterThan(100);
    expect(counts.created).toBeGreaterThan(2);
    expect(counts.revokedChecked).toBeGreaterThan(0);
    expect(counts.enabledChecked).toBeGreaterThan(0);
    expect(growthMb).toBeLessThan(HEAP_GROWTH_MB);
  });
});
