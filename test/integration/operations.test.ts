// What operators rely on: /metrics counters that move with traffic, /readyz, and a SIGTERM drain
// that loses no in-flight request.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/tokens/token-format.js';
import { seedUser } from '../helpers/fixtures.js';
import { startGatewayProcess } from '../helpers/processes.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users: { alice } } = useGateway({ users: { alice: {} } });

/** Parses the Prometheus text format into `name{labels} → value`. */
async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(gw.metricsUrl);
  expect(res.status).toBe(200);
  const text = await res.text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
const delta = (a: Map<string, number>, b: Map<string, number>, key: string) => (b.get(key) ?? 0) - (a.get(key) ?? 0);

describe('/metrics', () => {
  it('counts requests, auth outcomes and cache tiers as a scripted mix of calls happens', async () => {
    const before = await scrape();
    const blocked = await seedUser(ts.store, { roles: ['Blocked'] });
    const off = await seedUser(ts.store, { tokenEnabled: false });
    await gw.gateway.follower.poll(); // apply the seeding's change-feed entries now, not mid-script
    for (let i = 0; i < 3; i++) await request(gw.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).expect(200);
    await request(gw.url).get('/Api/v6/envelope/1').expect(401);
    await request(gw.url).get('/Api/v6/envelope/1').set('apiToken', 'garbage').expect(401);
    await request(gw.url).get('/Api/v6/envelope/1').set('apiToken', mintToken('user')).expect(401);
    await request(gw.url).get('/Api/v6/envelope/1').set('apiToken', off.token).expect(401);
    await request(gw.url).get('/Api/v6/template/1').set('apiToken', blocked.token).expect(403);
    await new Promise((r) => setTimeout(r, 20));
    const after = await scrape();

    expect(delta(before, after, 'gatehouse_http_requests_total{surface="rest",route="envelope",status="200"}')).toBe(3);
    expect(delta(before, after, 'gatehouse_http_requests_total{surface="rest",route="envelope",status="401"}')).toBe(4);
    expect(delta(before, after, 'gatehouse_http_requests_total{surface="rest",route="template",status="403"}')).toBe(1);
    expect(delta(before, after, 'gatehouse_auth_outcomes_total{kind="api-token",reason="ok"}')).toBe(3);
    expect(delta(before, after, 'gatehouse_auth_outcomes_total{kind="none",reason="missing"}')).toBe(1);
    expect(delta(before, after, 'gatehouse_auth_outcomes_total{kind="api-token",reason="malformed"}')).toBe(1);
    expect(delta(before, after, 'gatehouse_auth_outcomes_total{kind="api-token",reason="unknown"}')).toBe(1);
    expect(delta(before, after, 'gatehouse_auth_outcomes_total{kind="api-token",reason="disabled"}')).toBe(1);
    expect(delta(before, after, 'gatehouse_auth_outcomes_total{kind="api-token",reason="no-permission"}')).toBe(1);
    expect(delta(before, after, 'gatehouse_cache_lookups_total{tier="store"}')).toBe(1);
    expect(delta(before, after, 'gatehouse_cache_lookups_total{tier="l1"}')).toBe(2);
    expect(delta(before, after, 'gatehouse_store_query_duration_seconds_count{operation="findApiTokenByHash"}')).toBeGreaterThanOrEqual(1);
    expect(delta(before, after, 'gatehouse_upstream_response_seconds_count{upstream="envelope"}')).toBe(3);
    expect(after.has('gatehouse_nodejs_eventloop_lag_seconds')).toBe(true);

    // No user data in any label value.
    const text = await (await fetch(gw.metricsUrl)).text();
    for (const secret of [alice.token, alice.login, blocked.login, alice.userId, alice.tokenId]) expect(text).not.toContain(secret);
  });
});

describe('/readyz', () => {
  it('reports the store and migrations', async () => {
    const res = await request(gw.url).get('/readyz').expect(200);
    expect(res.body).toMatchObject({ status: 'ready', store: 'ok', migrations: 'applied', draining: false });
  });
});

describe('SIGTERM', () => {
  it('drains: readiness turns 503 first, every in-flight request completes', async () => {
    // An upstream that takes 400 ms per call keeps requests in flight while the signal arrives.
    let received = 0;
    const slow = http.createServer((req, res) => {
      // The gateway's fetch of the SOAP upstream's ?wsdl at start is not a call
      if (req.url?.endsWith('?wsdl')) return void res.writeHead(404).end();
      received++;
      req.resume();
      setTimeout(() => res.end(JSON.stringify({ ok: true })), 400);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const upstream = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const gateway = await startGatewayProcess({
      DATABASE_URL: ts.url,
      UPSTREAM_URL: upstream,
      GATEHOUSE_CONFIG: writeConfig({ shutdown: { drainDelayMs: 1500, timeoutMs: 5000 } }),
    });
    try {
      const call = () => fetch(`${gateway.url}/Api/v6/envelope/1`, { headers: { apiToken: alice.token } }).then((r) => r.status);
      expect(await call()).toBe(200);
      const inFlight = Array.from({ length: 40 }, call);
      // Every one of them has reached the upstream: they are in flight when the signal lands.
      await expect.poll(() => received, { timeout: 5000, interval: 10 }).toBe(41);
      gateway.proc.kill('SIGTERM');
      await expect.poll(async () => (await fetch(`${gateway.url}/readyz`)).status, { timeout: 1000, interval: 20 }).toBe(503);
      expect(await (await fetch(`${gateway.url}/readyz`)).json()).toMatchObject({ draining: true });
      // Still served while draining (the load balancer has not noticed yet).
      expect(await call()).toBe(200);
      const statuses = await Promise.all(inFlight.map((p) => p.catch((e: Error) => `${e.message}: ${(e.cause as Error)?.message}`)));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(await gateway.stop()).toBe(0);
      expect(gateway.output()).toContain('"message":"stopped"');
    } finally {
      await gateway.stop();
      await new Promise<void>((r) => { slow.closeAllConnections(); slow.close(() => r()); });
    }
  });
});

function writeConfig(tree: unknown): string {
  const file = `${process.env.TMPDIR ?? '/tmp'}/gatehouse-ops-${process.pid}-${Date.now()}.json`;
  writeFileSync(file, JSON.stringify(tree));
  return file;
}
