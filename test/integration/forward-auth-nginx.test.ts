// Forward-auth mode with the real edge: Debian's nginx on a spare port, running the shipped
// config/nginx/gatehouse-forward-auth.conf (only its listen line and upstream addresses replaced),
// in front of a recording upstream (the platform) and a gateway deciding. The REST gateway suite's
// core cases go through nginx: what the client gets, and what reaches the platform — the path
// Gatehouse judged, a verified identity, no credential, no identity a client made up. nginx
// connects from 127.0.0.2 (proxy_bind), the one edge address the gateway believes; the test client
// connects from 127.0.0.1, so it is not an edge. The store dialect is not under test: the suite
// runs once, on SQLite.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { verifyIdentity } from '../../src/proxy/identity.js';
import { mintToken } from '../../src/tokens/token-format.js';
import { seedUser } from '../helpers/fixtures.js';
import { ensureNginx, renderServerBlock, startNginx, wrapConfig } from '../helpers/nginx.mjs';
import { seedOrgTokenOrg, seedOtherOrgUser, type OrgTokenOrg } from '../helpers/org-token-rule.js';
import type { Received } from '../helpers/recording-upstream.js';
import { freePort } from '../helpers/redis-server.js';
import { GET_ENVELOPE_HEADERS, getEnvelopeByIdCall } from '../helpers/soap-messages.js';
import type { TestGateway } from '../helpers/test-gateway.js';
import { TEST_DB } from '../helpers/test-store.js';
import { rawRequest, type RawAnswer as Answer } from '../helpers/raw-request.js';
import { useGateway } from '../helpers/use-gateway.js';

const EDGE = '127.0.0.2';
const forwardAuth = (edgeForwards: 'judged' | 'original') => ({
  forwardAuth: { enabled: true, path: '/_gatehouse/auth', edges: [EDGE], edgeForwards },
  http: { ...loadConfig({ NODE_ENV: 'test' }).http, trustedProxies: [EDGE] },
  lastUsed: { flushIntervalMs: 100 },
});

/** One request with the path sent exactly as written (no client-side normalization). */
const send = rawRequest;

describe.runIf(TEST_DB === 'sqlite' && ensureNginx())('forward-auth mode behind the real nginx (config/nginx)', () => {
  const env = useGateway({
    upstream: 'recording',
    overrides: forwardAuth('judged'),
    users: { alice: {}, disabled: { tokenEnabled: false }, plain: { roles: ['Plain'] } },
    noSecretsInLogs: true,
  });
  const { gw, upstream, users } = env;
  const { alice } = users;
  let dir: string;
  const stops: (() => Promise<void>)[] = [];
  const errorLogs: (() => string)[] = [];
  let edge: string; // nginx before the `judged` gateway
  let strict: string; // nginx before a gateway with edgeForwards: original
  let strictGw: TestGateway;
  let orgs: OrgTokenOrg;
  const hostPort = (url: string) => new URL(url).host;

  async function nginxBefore(name: string, gatehouse: string): Promise<string> {
    const port = await freePort();
    const sub = join(dir, name);
    const conf = wrapConfig(sub, renderServerBlock({ port, gatehouse, platform: hostPort(upstream.url), bind: EDGE }));
    const n = await startNginx({ dir: sub, conf, port });
    stops.push(() => n.stop());
    errorLogs.push(n.errorLog);
    return n.url;
  }

  beforeAll(async () => {
    const started = Date.now();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
    edge = await nginxBefore('judged', hostPort(gw.url));
    strictGw = await env.startGateway({ overrides: forwardAuth('original') });
    strict = await nginxBefore('original', hostPort(strictGw.url));
    orgs = await seedOrgTokenOrg(env.store, true, await seedOtherOrgUser(env.store, `other-${Date.now()}@example.test`));
    env.secrets.push(orgs.token);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  afterAll(async () => {
    // nginx always stopped, whatever failed; it never complained of its configuration
    await Promise.allSettled(stops.map((s) => s()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** What the platform received for the call just made (the recording upstream), or undefined. */
  const received = async (fn: () => Promise<Answer>): Promise<[Answer, Received | undefined]> => {
    const before = upstream.received.length;
    const answer = await fn();
    return [answer, upstream.received.slice(before).at(-1)];
  };
  const claimsOf = (r: Received, gateway: TestGateway = gw) =>
    verifyIdentity(String(r.headers['x-gatehouse-identity']), { secret: gateway.identitySecret, issuer: 'gatehouse', audience: 'gatehouse-upstream' });
  const orgHeaders = (login = orgs.logins.enabled) => ({ organizationKey: orgs.token, userLoginName: login });

  describe('a valid user API token', () => {
    it('is forwarded by nginx with a verified identity, no credential and the request id the client is told', async () => {
      const [res, got] = await received(() => send(edge, '/Api/v6/envelope/123?x=1', { apiToken: alice.token }));
      expect(res.status).toBe(200);
      expect(got!.url).toBe('/Api/v6/envelope/123?x=1');
      expect(claimsOf(got!)).toMatchObject({ sub: alice.userId, login: alice.login, kind: 'api-token', tid: alice.tokenId });
      expect(got!.headers.apitoken).toBeUndefined();
      expect(got!.headers.authorization).toBeUndefined();
      expect(got!.headers['x-request-id']).toBe(res.headers['x-request-id']);
      expect(got!.headers['x-forwarded-for']).toBe('127.0.0.1');
    });

    it('is read from Authorization: Bearer and from any spelling of apiToken', async () => {
      for (const h of [{ Authorization: `Bearer ${alice.token}` }, { APITOKEN: alice.token }]) {
        const [res, got] = await received(() => send(edge, '/Api/v6/envelope/1', h));
        expect(res.status).toBe(200);
        expect(claimsOf(got!).sub).toBe(alice.userId);
        expect(got!.headers.authorization).toBeUndefined();
      }
    });

    it('replaces a client-sent identity and drops the X-Gatehouse-* headers a client makes up', async () => {
      const spoof = { 'X-Gatehouse-Identity': 'forged', 'X-Gatehouse-Uri': '/Api/v1/admin', 'X-Gatehouse-Token-Expires': 'never' };
      const [res, got] = await received(() => send(edge, '/Api/v6/envelope/1', { apiToken: alice.token, ...spoof }));
      expect(res.status).toBe(200);
      expect(claimsOf(got!).sub).toBe(alice.userId);
      expect(got!.headers['x-gatehouse-uri']).toBeUndefined();
      expect(got!.headers['x-gatehouse-token-expires']).toBeUndefined();
    });

    it('streams a 1 MB body to the platform (Gatehouse only decides)', async () => {
      const body = Buffer.alloc(1 << 20, 7);
      const [res, got] = await received(() => send(edge, '/Api/v6/file/upload', { apiToken: alice.token, 'content-type': 'application/octet-stream' }, { method: 'POST', body }));
      expect(res.status).toBe(200);
      expect(got!.method).toBe('POST');
      expect(createHash('sha256').update(got!.body).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    });

    it('counts as used, from the client address nginx saw (not one the client claims)', async () => {
      const u = await seedUser(env.store);
      env.secrets.push(u.token);
      expect((await send(edge, '/Api/v6/envelope/1', { apiToken: u.token, 'X-Forwarded-For': '6.6.6.6' })).status).toBe(200);
      let used: { lastUsedAt: string | null; lastUsedIp: string | null } | undefined;
      for (let i = 0; i < 50 && !used?.lastUsedAt; i++) {
        await new Promise((r) => setTimeout(r, 50));
        used = (await env.store.admin.listApiTokens(u.login)).find((t) => t.id === u.tokenId);
      }
      expect(used?.lastUsedIp).toBe('127.0.0.1');
    });
  });

  describe('refusals, in the REST error shape with their status, and nothing forwarded', () => {
    it.each<[string, number, string, () => Record<string, string>]>([
      ['no credential', 401, 'CredentialMissing', () => ({})],
      ['a disabled token', 401, 'CredentialDisabled', () => ({ apiToken: users.disabled.token })],
      ['an unknown token', 401, 'CredentialUnknown', () => ({ apiToken: mintToken('user') })],
      ['a malformed token', 401, 'CredentialMalformed', () => ({ apiToken: 'nonsense' })],
      ['a user without the API permission', 403, 'PermissionDenied', () => ({ apiToken: users.plain.token })],
      ['two different tokens', 400, 'CredentialConflict', () => ({ apiToken: alice.token, Authorization: `Bearer ${users.plain.token}` })],
    ])('%s → %i %s', async (_name, status, code, headers) => {
      const [res, got] = await received(() => send(edge, '/Api/v6/envelope/1', headers()));
      expect(res.status).toBe(status);
      expect(res.json).toEqual({ ErrorId: code, Message: expect.any(String), SupportId: res.headers['x-request-id'] });
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      if (status === 401) expect(res.raw.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'www-authenticate')).toHaveLength(1);
      if (status === 401) expect(res.headers['www-authenticate']).toBe('Bearer realm="gatehouse", apiToken');
      expect(got).toBeUndefined();
    });

    it('guessing: 429 with one Retry-After once the token hint has failed too often, counted by Gatehouse', async () => {
      const guess = mintToken('user');
      let last: Answer | undefined;
      for (let i = 0; i < 11; i++) last = await send(edge, '/Api/v6/envelope/1', { apiToken: guess });
      expect(last!.status).toBe(429);
      expect(last!.json.ErrorId).toBe('TooManyFailedAttempts');
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(last!.raw.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'retry-after')).toHaveLength(1);
    });

    it('a method override from the client: 400 MethodOverrideRefused in the REST shape, never forwarded', async () => {
      const [res, got] = await received(() => send(edge, '/Api/v6/envelope/1', { apiToken: alice.token, 'X-HTTP-Method-Override': 'DELETE' }));
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ ErrorId: 'MethodOverrideRefused', Message: expect.any(String), SupportId: res.headers['x-request-id'] });
      expect(got).toBeUndefined();
    });

    it('404 for a path that names no resource or an unknown version', async () => {
      for (const path of ['/Api/v7/envelope/1', '/Api/v6/']) {
        const [res, got] = await received(() => send(edge, path, { apiToken: alice.token }));
        expect(res.status).toBe(404);
        expect(res.json.ErrorId).toBe('RouteNotFound');
        expect(got).toBeUndefined();
      }
    });
  });

  describe('organization tokens: the version fence on the path Gatehouse judged', () => {
    it('v5 is forwarded (identity of the acting user, deprecation headers to the client); v6 is refused with them', async () => {
      const [ok, got] = await received(() => send(edge, '/Api/v5/envelope/1', orgHeaders()));
      expect(ok.status).toBe(200);
      expect(claimsOf(got!)).toMatchObject({ kind: 'org-token', login: orgs.logins.enabled, tid: orgs.tokenId });
      expect(got!.headers.organizationkey).toBeUndefined();
      expect(got!.headers.userloginname).toBeUndefined();
      expect(ok.headers.deprecation).toMatch(/^@\d+$/);
      expect(ok.headers.sunset).toBeDefined();
      const [refused, none] = await received(() => send(edge, '/Api/v6/envelope/1', orgHeaders()));
      expect(refused.status).toBe(403);
      expect(refused.json.ErrorId).toBe('VersionNotAllowed');
      expect(refused.headers.deprecation).toMatch(/^@\d+$/);
      expect(none).toBeUndefined();
    });

    it('an edge header a client adds cannot move the fence (nginx sets the original URI itself)', async () => {
      for (const h of [{ 'X-Forwarded-Uri': '/Api/v5/envelope/1' }, { 'X-Original-URI': '/Api/v5/envelope/1' }, { 'X-Original-URL': 'http://x/Api/v5/envelope/1' }]) {
        const [res, got] = await received(() => send(edge, '/Api/v6/envelope/1', { ...orgHeaders(), ...h }));
        expect(res.status).toBe(403);
        expect(got).toBeUndefined();
      }
    });
  });

  describe('traversal forms: what Gatehouse judged is what nginx forwards', () => {
    // edgeForwards: judged — normalized as in proxy mode, and nginx forwards the judged URI
    it.each([
      ['/Api/v6/../v5/envelope/1', '/Api/v5/envelope/1'],
      ['/Api/v6/%2e%2e/v5/envelope/1', '/Api/v5/envelope/1'],
      ['/Api/v6/%2E%2E/v4/envelope/1', '/Api/v4/envelope/1'],
      ['/api/V5.0/envelope/1', '/Api/v5/envelope/1'],
      ['//API//v3//envelope/1', '/Api/v3/envelope/1'],
      ['/Api/v6/./../v5/./envelope/1?a=%2e%2e', '/Api/v5/envelope/1?a=%2e%2e'],
    ])('%s: judged and forwarded as %s', async (path, forwarded) => {
      const [res, got] = await received(() => send(edge, path, orgHeaders()));
      expect(res.status).toBe(200);
      expect(got!.url).toBe(forwarded);
      expect(claimsOf(got!).kind).toBe('org-token');
    });

    it.each(['/Api/v5/../v6/envelope/1', '/Api/v5/%2e%2e/v6/envelope/1'])('%s: the v6 it reaches is refused to an organization token', async (path) => {
      const [res, got] = await received(() => send(edge, path, orgHeaders()));
      expect(res.status).toBe(403);
      expect(res.json.ErrorId).toBe('VersionNotAllowed');
      expect(got).toBeUndefined();
    });

    it.each([
      '/Api/v6/..;/v5/envelope/1',
      '/Api/v6/%2e%2e%3b/v5/envelope/1',
      '/Api/v6/%252e%252e/v5/envelope/1',
      '/Api/v6/envelope%2f..%2f..%2fv5',
      '/Api/v6/%5c..%5cv5/envelope',
    ])('%s: refused with 400 PathRefused, never forwarded', async (path) => {
      const [res, got] = await received(() => send(edge, path, { apiToken: alice.token }));
      expect(res.status).toBe(400);
      expect(res.json.ErrorId).toBe('PathRefused');
      expect(got).toBeUndefined();
    });

    // edgeForwards: original — an edge that forwards the URI as sent: a path normalization would change is refused
    it.each(['/Api/v6/../v5/envelope/1', '/Api/v6/%2e%2e/v5/envelope/1', '//Api/v5/envelope/1', '/Api/v5/./envelope/1', '/Api/v6/..;/v5/envelope/1'])(
      'edgeForwards original: %s refused with 400, never forwarded',
      async (path) => {
        const [res, got] = await received(() => send(strict, path, orgHeaders()));
        expect(res.status).toBe(400);
        expect(res.json.ErrorId).toBe('PathRefused');
        expect(got).toBeUndefined();
      },
    );

    it('edgeForwards original: a canonical path is judged and forwarded as sent', async () => {
      const [res, got] = await received(() => send(strict, '/Api/v5/envelope/1?x=%41', orgHeaders()));
      expect(res.status).toBe(200);
      expect(got!.url).toBe('/Api/v5/envelope/1?x=%41');
      expect(claimsOf(got!, strictGw).kind).toBe('org-token');
    });
  });

  describe('the rest of the edge', () => {
    it('GET /Api/v{N}/version is forwarded without a credential and without any identity', async () => {
      const [res, got] = await received(() => send(edge, '/Api/v6/version', { 'X-Gatehouse-Identity': 'forged' }));
      expect(res.status).toBe(200);
      expect(got!.url).toBe('/Api/v6/version');
      expect(got!.headers['x-gatehouse-identity']).toBeUndefined();
    });

    it('SOAP keeps the proxy path: nginx hands it to Gatehouse, which forwards it with an identity', async () => {
      const [res, got] = await received(() => send(edge, '/api.asmx', GET_ENVELOPE_HEADERS, { method: 'POST', body: Buffer.from(getEnvelopeByIdCall(alice.token)) }));
      expect(res.status).toBe(200);
      expect(claimsOf(got!).sub).toBe(alice.userId);
      expect(got!.body.toString()).not.toContain(alice.token);
    });

    it('the decision endpoint exists for the edge alone: not through nginx, not to other peers', async () => {
      for (const path of ['/_gatehouse/auth', '/_gatehouse/auth/Api/v6/envelope/1']) {
        expect((await send(edge, path, { apiToken: alice.token, 'X-Original-URI': '/Api/v6/envelope/1' })).status).toBe(404);
        // straight to the gateway from 127.0.0.1: the same 404 as a path that never existed
        const res = await send(gw.url, path, { apiToken: alice.token, 'X-Original-URI': '/Api/v6/envelope/1' });
        const never = await send(gw.url, '/_nothing/here');
        expect([res.status, res.json.ErrorId, res.json.Message]).toEqual([never.status, never.json.ErrorId, never.json.Message]);
      }
    });

    it('nginx logged nothing worse than the refusals it was told of', () => {
      const lines = errorLogs.flatMap((log) => log().split('\n')).filter(Boolean);
      const unexpected = lines.filter((l) => !/auth request unexpected status: (400|404|429)\b/.test(l));
      expect(unexpected).toEqual([]);
    });

    it('Gatehouse unreachable: nginx refuses (502 in the REST error shape), nothing forwarded', async () => {
      const deadEdge = await nginxBefore('dead', `127.0.0.1:${await freePort()}`);
      const [res, got] = await received(() => send(deadEdge, '/Api/v6/envelope/1', { apiToken: alice.token }));
      expect(res.status).toBe(502);
      expect(res.json).toMatchObject({ ErrorId: 'UpstreamUnavailable', SupportId: res.headers['x-request-id'] });
      expect(got).toBeUndefined();
    });
  });
});
