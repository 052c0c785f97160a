// Fault injection: an upstream that resets, hangs, answers slowly or closes mid-body; Redis killed
// and restarted under the abuse limits; and (PostgreSQL project) the database cut off and restored
// through a TCP proxy the test controls — restarting the shared PostgreSQL server itself would
// disturb every other suite on the machine. SIGTERM under load is operations.test.ts's.
import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { mintToken } from '../../src/tokens/token-format.js';
import { seedUser } from '../helpers/fixtures.js';
import { startOwnRedis, uniquePrefix } from '../helpers/redis-server.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { TEST_DB } from '../helpers/test-store.js';
import { useGateway } from '../helpers/use-gateway.js';
import { GET_ENVELOPE_HEADERS, getEnvelopeByIdCall } from '../helpers/soap-messages.js';

const TNS = 'http://www.eSignAnyWhere.com/';
const { ts, gw, upstream: up, users: { alice } } = useGateway({
  upstream: 'recording',
  overrides: { proxy: { timeoutMs: 400, maxSockets: 16 } },
  users: { alice: {} },
});
afterEach(() => {
  up.behaviour = 'ok';
});

const soapEnvelope = () => getEnvelopeByIdCall(alice.token);
const rest = () => request(gw.url).get('/Api/v6/envelope/1').set('apiToken', alice.token);
const soap = () => request(gw.url).post('/api.asmx').set(GET_ENVELOPE_HEADERS).send(soapEnvelope());

/** A raw call (REST GET or SOAP POST) that reports whether the response arrived whole. */
function wholeResponse(surface: 'rest' | 'soap' = 'rest'): Promise<{ status: number; complete: boolean }> {
  const { hostname, port } = new URL(gw.url);
  const options =
    surface === 'rest'
      ? { hostname, port, path: '/Api/v6/envelope/1', headers: { apiToken: alice.token } }
      : { hostname, port, path: '/api.asmx', method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${TNS}GetEnvelopeById_v1"` } };
  return new Promise((resolve) => {
    const req = http.request(options, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, complete: res.complete }));
      res.on('error', () => resolve({ status: res.statusCode!, complete: false }));
      res.on('aborted', () => resolve({ status: res.statusCode!, complete: false }));
    });
    req.on('error', () => resolve({ status: 0, complete: false }));
    req.end(surface === 'soap' ? soapEnvelope() : undefined);
  });
}

describe('a faulty upstream', () => {
  it('reset: 502 in the REST error body, a Server Fault on SOAP; the next call works', async () => {
    up.behaviour = 'reset';
    const res = await rest().expect(502);
    expect(res.body).toMatchObject({ ErrorId: 'UpstreamUnavailable', SupportId: res.headers['x-request-id'] });
    const fault = await soap();
    expect(fault.status).toBe(500);
    expect(fault.text).toContain('<faultcode>soap:Server</faultcode>');
    expect(fault.text).toContain('<error>UpstreamUnavailable</error>');
    up.behaviour = 'ok';
    await rest().expect(200);
  });

  it('hangs: 504 at the proxy timeout on both surfaces', async () => {
    up.behaviour = 'hang';
    const started = Date.now();
    const [r, s] = await Promise.all([rest(), soap()]);
    expect(r.status).toBe(504);
    expect(r.body.ErrorId).toBe('UpstreamTimeout');
    expect(s.text).toContain('<error>UpstreamTimeout</error>');
    expect(Date.now() - started).toBeLessThan(2000);
    up.behaviour = 'ok';
  });

  it('slow but within the timeout: answered', async () => {
    up.behaviour = 'slow';
    up.slowMs = 150;
    await rest().expect(200);
    expect((await soap()).status).toBe(200);
    up.behaviour = 'ok';
  });

  it('closes mid-body: the client sees a cut response, never a complete one; the gateway carries on', async () => {
    up.behaviour = 'mid-body';
    const outcomes = await Promise.all([...Array.from({ length: 4 }, () => wholeResponse()), wholeResponse('soap'), wholeResponse('soap')]);
    for (const o of outcomes) expect(o.complete).toBe(false);
    up.behaviour = 'ok';
    const after = await Promise.all(Array.from({ length: 5 }, () => wholeResponse()));
    for (const o of after) expect(o).toEqual({ status: 200, complete: true });
  });
});

describe('Redis killed and restarted', () => {
  it('valid calls keep passing; the abuse limits fall back in-process, then share again', async () => {
    const own = await startOwnRedis();
    const g = await startTestGateway({
      store: ts.store,
      storeUrl: ts.url,
      upstream: up.url,
      overrides: { redis: { url: own.url, keyPrefix: uniquePrefix('faults'), commandTimeoutMs: 100 }, abuse: { failuresPerIp: 3, failuresPerToken: 0, windowSeconds: 60, tokenRequestsPerSecond: 0 } },
    });
    try {
      await request(g.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).expect(200);
      await own.stop();
      for (let i = 0; i < 5; i++) await request(g.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).expect(200);
      // Still counted while Redis is away (insurance limiter), still refused once over the limit
      for (let i = 0; i < 3; i++) await request(g.url).get('/Api/v6/envelope/1').set('apiToken', mintToken('user')).expect(401);
      await request(g.url).get('/Api/v6/envelope/1').set('apiToken', mintToken('user')).expect(429);
      await own.start();
      const end = Date.now() + 5000;
      while (g.gateway.cache.redisState() !== 'up' && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      expect(g.gateway.cache.redisState()).toBe('up');
    } finally {
      await g.close();
      await own.stop();
    }
  });
});

/** A TCP proxy to PostgreSQL that the test can cut (every connection dropped, new ones refused) and restore. */
async function cuttableProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return client.destroy();
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      cut = false;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.runIf(TEST_DB === 'postgres')('PostgreSQL cut off and restored (through a TCP proxy)', () => {
  it('cached tokens keep passing, others get 503 + Retry-After (never 401), and all recovers', async () => {
    const target = new URL(ts.url);
    const proxy = await cuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = ts.url.replace(`${target.hostname}:${target.port || 5432}`, `127.0.0.1:${proxy.port}`);
    let store: Store | undefined;
    let g: TestGateway | undefined;
    try {
      store = openStore(viaProxy);
      g = await startTestGateway({ store, storeUrl: viaProxy, upstream: up.url, overrides: { cache: { l1MaxEntries: 1000, l1TtlMs: 200, negativeTtlMs: 100, staleMaxMs: 60000 } } });
      const late = await seedUser(ts.store);
      await request(g.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).expect(200);
      proxy.cut();
      await new Promise((r) => setTimeout(r, 300)); // past the L1 TTL: only the stale bound keeps alice
      await request(g.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).expect(200);
      const res = await request(g.url).get('/Api/v6/envelope/1').set('apiToken', late.token).expect(503);
      expect(res.body.ErrorId).toBe('StoreUnavailable');
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      proxy.restore();
      const end = Date.now() + 8000;
      let status = 0;
      while (status !== 200 && Date.now() < end) {
        status = (await request(g.url).get('/Api/v6/envelope/1').set('apiToken', late.token)).status;
        expect([200, 503]).toContain(status);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    } finally {
      await g?.close();
      await store?.close();
      await proxy.close();
    }
  });
});
