// The store unreachable: tokens cached before the outage keep passing within the stale bound
// (even past their L1 TTL), then get 503; tokens never seen get 503 with Retry-After, never 401.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/use-gateway.js';

const TTL_MS = 150;
const STALE_MAX_MS = 1200;

const { gw, gwStore, users: { cached, uncached } } = useGateway({
  // The gateway's own connection to the store, which the test then closes: the store is gone for it.
  ownConnection: true,
  overrides: { cache: { l1MaxEntries: 1000, l1TtlMs: TTL_MS, negativeTtlMs: 100, staleMaxMs: STALE_MAX_MS } },
  users: { cached: {}, uncached: {} },
});

beforeAll(async () => {
  // The seeding's own changes, applied now: a poll that came after the warm-up call below would
  // evict the records it cached, leaving nothing to serve stale (seen on a loaded machine)
  await gw.gateway.follower.poll();
});

const call = (token: string) => request(gw.url).get('/Api/v6/envelope/7').set('apiToken', token);

describe('store unreachable', () => {
  it('serves cached tokens within the stale bound and 503 + Retry-After otherwise', async () => {
    await call(cached.token).expect(200);
    const warmedAt = Date.now();
    await gwStore.close();

    // Past the L1 TTL, within the stale bound: still served.
    await new Promise((r) => setTimeout(r, TTL_MS + 100));
    const stale = await call(cached.token);
    expect(stale.status).toBe(200);
    expect(stale.body.CalledBy.UserId).toBe(cached.userId);

    // Never cached: 503 with Retry-After in the REST error body, not 401.
    const res = await call(uncached.token).expect(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toMatchObject({ ErrorId: 'StoreUnavailable', SupportId: res.headers['x-request-id'] });
    expect(JSON.stringify(res.body)).not.toContain(uncached.token);

    // Past the stale bound: 503 for the cached one too.
    await new Promise((r) => setTimeout(r, Math.max(0, warmedAt + STALE_MAX_MS + 100 - Date.now())));
    const late = await call(cached.token).expect(503);
    expect(late.headers['retry-after']).toBe('5');

    const ready = await request(gw.url).get('/readyz').expect(503);
    expect(ready.body).toMatchObject({ status: 'unready', store: 'unreachable' });

    const logs = gw.logs.join('\n');
    expect(logs).not.toContain(cached.token);
    expect(logs).not.toContain(uncached.token);
  });
});
