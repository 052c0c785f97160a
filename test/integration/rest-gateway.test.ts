// The REST gateway end to end: real HTTP through the gateway to the real sample upstream, on the
// dialect this project runs (SQLite or PostgreSQL).
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { verifyIdentity } from '../../src/proxy/identity.js';
import { mintToken } from '../../src/tokens/token-format.js';
import { seedOrganization, seedUser, TEST_ACTOR } from '../helpers/fixtures.js';
import { startTestGateway } from '../helpers/test-gateway.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users: { alice }, secrets: secretsSeen } = useGateway({ users: { alice: {} } });

const envelope = (path = '/Api/v6/envelope/123') => request(gw.url).get(path);

describe('a valid user API token', () => {
  it('is forwarded with a verified identity and without credential headers', async () => {
    const res = await envelope().set('apiToken', alice.token).expect(200);
    expect(res.body.EnvelopeId).toBe('123');
    expect(res.body.CalledBy).toMatchObject({ UserId: alice.userId, LoginName: alice.login, AuthKind: 'api-token', TokenId: alice.tokenId });
    expect(res.body.CalledBy.ReceivedHeaders).not.toContain('apitoken');
    expect(res.body.CalledBy.ReceivedHeaders).not.toContain('authorization');
    expect(res.body.CalledBy.ReceivedHeaders).toEqual(expect.arrayContaining(['x-gatehouse-identity', 'x-request-id', 'x-forwarded-for']));
    expect(res.headers['x-request-id']).toBe(res.body.CalledBy.RequestId);
  });

  it.each(['apiToken', 'APITOKEN', 'apitoken', 'ApiToken'])('is read from the %s header', async (name) => {
    await envelope().set(name, alice.token).expect(200);
  });

  it('is read from Authorization: Bearer', async () => {
    const res = await envelope().set('Authorization', `Bearer ${alice.token}`).expect(200);
    expect(res.body.CalledBy.UserId).toBe(alice.userId);
  });

  it('may come in both headers when they agree', async () => {
    await envelope().set('apiToken', alice.token).set('Authorization', `Bearer ${alice.token}`).expect(200);
  });

  it('replaces a client-sent identity header with a signed one of its own', async () => {
    const capture = await captureUpstream();
    const local = await startTestGateway({ store: ts.store, storeUrl: ts.url, upstream: capture.url });
    try {
      await request(local.url)
        .get('/Api/v6/envelope/1')
        .set('apiToken', alice.token)
        .set('X-Gatehouse-Identity', 'forged')
        .set('X-Gatehouse-Admin', 'true')
        .set('X-Forwarded-For', '6.6.6.6')
        .expect(200);
      const h = capture.last!.headers;
      expect(h['x-gatehouse-admin']).toBeUndefined();
      expect(h['x-forwarded-for']).not.toContain('6.6.6.6');
      const claims = verifyIdentity(String(h['x-gatehouse-identity']), { secret: local.identitySecret, issuer: 'gatehouse', audience: 'gatehouse-upstream' });
      expect(claims).toMatchObject({ sub: alice.userId, login: alice.login, kind: 'api-token', tid: alice.tokenId });
      expect(claims.exp! - claims.iat!).toBe(60);
    } finally {
      await local.close();
      await capture.close();
    }
  });
});

describe('refusals', () => {
  it('401 with WWW-Authenticate and the platform error body when no credential is sent', async () => {
    const res = await envelope().expect(401);
    expect(res.headers['www-authenticate']).toMatch(/Bearer/);
    expect(res.body).toEqual({ ErrorId: 'CredentialMissing', Message: expect.any(String), SupportId: res.headers['x-request-id'] });
  });

  it('400 when apiToken and Bearer carry different tokens', async () => {
    const other = await seedUser(ts.store);
    secretsSeen.push(other.token);
    const res = await envelope().set('apiToken', alice.token).set('Authorization', `Bearer ${other.token}`).expect(400);
    expect(res.body.ErrorId).toBe('CredentialConflict');
  });

  it('401 for a malformed token and for a bad checksum, with no store look-up', async () => {
    const spy = vi.spyOn(ts.store.gateway, 'findApiTokenByHash');
    const badChecksum = alice.token.slice(0, -1) + (alice.token.endsWith('A') ? 'B' : 'A');
    for (const t of ['nonsense', 'gtu_tooshort', badChecksum, 'x'.repeat(5000)]) {
      const res = await envelope().set('apiToken', t).expect(401);
      expect(res.body.ErrorId).toBe('CredentialMalformed');
    }
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('401 for an unknown token, cached as absent (one store look-up for repeated tries)', async () => {
    const spy = vi.spyOn(ts.store.gateway, 'findApiTokenByHash');
    const unknown = mintToken('user');
    for (let i = 0; i < 3; i++) {
      const res = await envelope().set('apiToken', unknown).expect(401);
      expect(res.body.ErrorId).toBe('CredentialUnknown');
    }
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it.each<[string, Parameters<typeof seedUser>[1], number, string]>([
    ['a disabled token', { tokenEnabled: false }, 401, 'CredentialDisabled'],
    ['an expired token', { expiresAt: '2020-01-01T00:00:00Z' }, 401, 'CredentialExpired'],
    ['a disabled user', { enabled: false }, 401, 'UserDisabled'],
    ['a user without the API permission', { roles: ['Plain'] }, 403, 'PermissionDenied'],
    ['a user with no role at all', { roles: [] }, 403, 'PermissionDenied'],
    ['a user allowed by one role and denied by another', { roles: ['Integrators', 'Blocked'] }, 403, 'PermissionDenied'],
  ])('%s → %i', async (_name, opts, status, code) => {
    const u = await seedUser(ts.store, opts);
    secretsSeen.push(u.token);
    const res = await envelope().set('apiToken', u.token).expect(status);
    expect(res.body.ErrorId).toBe(code);
    if (status === 401) expect(res.headers['www-authenticate']).toBeDefined();
  });

  // Every resource is forwarded (the upstream says whether it exists); a path that names none, or a version outside 1..6, is not a route
  it('404 in the REST error body for a path without a resource or an unknown version', async () => {
    for (const path of ['/Api/v6', '/Api/v6/', '/Api/v7/envelope/1', '/Api/v0/envelope/1']) {
      const res = await request(gw.url).get(path).set('apiToken', alice.token).expect(404);
      expect(res.body.ErrorId).toBe('RouteNotFound');
    }
  });
});

describe('path normalization', () => {
  it.each([
    ['/Api/v6/../v5/envelope/1', 'v5'],
    ['/Api/v6/%2e%2e/v5/envelope/1', 'v5'],
    ['/Api/v6/%2E%2E/v4/envelope/1', 'v4'],
    ['/api/V6.0/envelope/1', 'v6'],
    ['//API//v3//envelope/1', 'v3'],
    ['/./Api/v2/./envelope/1', 'v2'],
  ])('%s reaches the upstream as %s', async (path, version) => {
    const res = await request(gw.url).get(path).set('apiToken', alice.token).expect(200);
    expect(res.body.ApiVersion).toBe(version);
    expect(res.body.EnvelopeId).toBe('1');
  });

  it.each(['/Api/v6/envelope%2f..%2f..%2fv5', '/Api/v6/envelope\\..\\1', '/Api/v6/%5c..%5cv5/envelope'])('%s is refused with 400', async (path) => {
    const res = await rawGet(path, { apiToken: alice.token });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).ErrorId).toBe('PathRefused');
  });
});

describe('public calls', () => {
  it('GET /Api/v{N}/version needs no credential', async () => {
    const res = await request(gw.url).get('/Api/v6/version').expect(200);
    expect(res.body.Version).toBeTruthy();
  });
  it('/healthz and /readyz answer', async () => {
    await request(gw.url).get('/healthz').expect(200);
    const ready = await request(gw.url).get('/readyz').expect(200);
    expect(ready.body).toMatchObject({ status: 'ready', store: 'ok', redis: 'disabled', degraded: false });
  });
});

describe('forwarding', () => {
  it('streams a 20 MB upload through, byte for byte', async () => {
    const chunk = randomBytes(1024 * 1024);
    const hash = createHash('sha256');
    for (let i = 0; i < 20; i++) hash.update(chunk);
    const body = new ReadableStream({
      i: 0,
      pull(controller) {
        if ((this as { i: number }).i++ < 20) controller.enqueue(chunk);
        else controller.close();
      },
    } as UnderlyingDefaultSource<Uint8Array> & { i: number });
    const res = await fetch(`${gw.url}/Api/v6/file/upload`, {
      method: 'POST',
      headers: { apiToken: alice.token, 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    const json = (await res.json()) as { Received: { Bytes: number; Sha256: string } };
    expect(json.Received).toEqual({ Bytes: 20 * 1024 * 1024, Sha256: hash.digest('hex') });
  });

  it('502 in the REST error body when the upstream refuses connections', async () => {
    const dead = await deadPort();
    const local = await startTestGateway({ store: ts.store, storeUrl: ts.url, upstream: `http://127.0.0.1:${dead}` });
    try {
      const res = await request(local.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).expect(502);
      expect(res.body).toMatchObject({ ErrorId: 'UpstreamUnavailable', SupportId: res.headers['x-request-id'] });
    } finally {
      await local.close();
    }
  });

  it('504 in the REST error body when the upstream is slower than the timeout', async () => {
    const slow = await captureUpstream(2000);
    const local = await startTestGateway({ store: ts.store, storeUrl: ts.url, upstream: slow.url, overrides: { proxy: { timeoutMs: 300 } } });
    try {
      const started = Date.now();
      const res = await request(local.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).expect(504);
      expect(res.body.ErrorId).toBe('UpstreamTimeout');
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await local.close();
      await slow.close();
    }
  });
});

describe('changes made elsewhere', () => {
  it('a token disabled by another connection is refused within 2 s', async () => {
    const u = await seedUser(ts.store);
    secretsSeen.push(u.token);
    await envelope().set('apiToken', u.token).expect(200); // now cached in L1
    const other = ts.reopen();
    try {
      await other.admin.setApiTokenEnabled(TEST_ACTOR, u.tokenId, false);
    } finally {
      await other.close();
    }
    const started = Date.now();
    let status = 200;
    while (Date.now() - started < 2000) {
      status = (await envelope().set('apiToken', u.token)).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
  });

  it('a role losing its permission takes effect with one eviction for all its users', async () => {
    const org = await seedOrganization(ts.store);
    const a = await seedUser(ts.store, { org: org.name });
    const b = await seedUser(ts.store, { org: org.name });
    secretsSeen.push(a.token, b.token);
    await envelope().set('apiToken', a.token).expect(200);
    await envelope().set('apiToken', b.token).expect(200);
    await ts.store.admin.setRolePermission(TEST_ACTOR, org.name, 'Integrators', 'API', 'deny');
    await gw.gateway.follower.poll();
    await envelope().set('apiToken', a.token).expect(403);
    await envelope().set('apiToken', b.token).expect(403);
  });
});

describe('tracing', () => {
  it('forwards a W3C traceparent untouched and logs its trace id', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await envelope().set('apiToken', alice.token).set('traceparent', traceparent).set('X-Request-Id', 'trace-me-2').expect(200);
    expect(res.body.CalledBy.ReceivedHeaders).toContain('traceparent');
    await new Promise((r) => setTimeout(r, 20));
    const line = gw.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === 'trace-me-2');
    expect(line.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});

describe('secrets', () => {
  it('never appear in a log line or an error body', async () => {
    const bodies: string[] = [];
    for (const t of secretsSeen) {
      bodies.push((await envelope().set('apiToken', t)).text);
      bodies.push((await envelope().set('Authorization', `Bearer ${t}`).set('apiToken', alice.token)).text);
      bodies.push((await envelope().set('apiToken', t.slice(0, -1) + '0')).text);
    }
    const everything = gw.logs.join('\n') + bodies.filter((b) => b.includes('ErrorId')).join('\n');
    expect(gw.logs.length).toBeGreaterThan(10);
    for (const t of secretsSeen) {
      expect(everything).not.toContain(t);
      expect(everything).not.toContain(t.slice(4, 34));
    }
  });

  it('writes one JSON access line per request with the fields operators need', async () => {
    const before = gw.logs.length;
    await envelope().set('apiToken', alice.token).set('X-Request-Id', 'trace-me-1').expect(200);
    await new Promise((r) => setTimeout(r, 20));
    const line = gw.logs.slice(before).map((l) => JSON.parse(l)).find((l) => l.requestId === 'trace-me-1');
    expect(line).toMatchObject({
      message: 'access', method: 'GET', path: '/Api/v6/envelope/123', status: 200, authKind: 'api-token',
      tokenId: alice.tokenId, userId: alice.userId, upstream: 'envelope', cacheTier: expect.stringMatching(/^(l1|store)$/),
    });
    expect(typeof line.ms).toBe('number');
  });
});

// --- helpers -----------------------------------------------------------------------------------

async function captureUpstream(delayMs = 0) {
  let last: http.IncomingMessage | undefined;
  const server = http.createServer((req, res) => {
    last = req;
    req.resume();
    const t = setTimeout(() => res.end('{}'), delayMs);
    res.on('close', () => clearTimeout(t));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get last() {
      return last;
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A GET with the path sent exactly as written (fetch and supertest would normalize it). */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
