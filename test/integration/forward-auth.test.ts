// The forward-auth decision endpoint asked directly, the way each edge asks: nginx / ingress-nginx
// (X-Original-URI, X-Original-URL), Traefik (X-Forwarded-Uri/-Method, itself a GET), Envoy
// ext_authz (the original path under the decision path, the original method). What it answers
// (200 with the identity and the judged URI, or the refusal in the REST shape plus the headers
// nginx needs), who may ask (edges only; anyone else finds nothing there), who the client is (the
// edge's X-Forwarded-For / X-Real-IP: the abuse limits and "last used"), and that the original
// method is what an OAuth token's scope is judged against. The edge here is 127.0.0.1 (this test);
// a peer that is not an edge connects from 127.0.0.2. Not a store-dialect matter: runs once, on SQLite.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyIdentity } from '../../src/proxy/identity.js';
import { OAuthStore } from '../../src/store/oauth-store.js';
import { mintToken } from '../../src/tokens/token-format.js';
import { seedUser, TEST_ACTOR } from '../helpers/fixtures.js';
import { consent } from '../helpers/oauth-flow.js';
import { seedOrgTokenOrg, seedOtherOrgUser } from '../helpers/org-token-rule.js';
import { TEST_DB } from '../helpers/test-store.js';
import { rawRequest } from '../helpers/raw-request.js';
import { useGateway } from '../helpers/use-gateway.js';

const P = '/_gatehouse/auth';
const REDIRECT = 'http://127.0.0.1:9/callback';

/** One request with the path sent exactly as written (no client-side normalization). */
const ask = rawRequest;

describe.runIf(TEST_DB === 'sqlite')('the forward-auth decision endpoint', () => {
  let keyDir: string;
  // An OAuth signing key from a file, written before the gateway starts (this hook runs first).
  beforeAll(() => {
    keyDir = mkdtempSync(join(tmpdir(), 'gatehouse-fa-oauth-'));
    writeFileSync(join(keyDir, 'key.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  });
  afterAll(() => {
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });
  const env = useGateway({
    overrides: () => ({
      forwardAuth: { enabled: true, path: P, edges: ['127.0.0.1'], edgeForwards: 'original' },
      oauth: { signingKeyFile: join(keyDir, 'key.pem') },
      lastUsed: { flushIntervalMs: 100 },
      // guesses counted per client address only, so the edge's X-Forwarded-For is what is counted
      abuse: { failuresPerIp: 5, failuresPerToken: 0, windowSeconds: 60, tokenRequestsPerSecond: 0 },
    }),
    users: { alice: { password: true }, disabled: { tokenEnabled: false } },
    noSecretsInLogs: true,
  });
  const { gw, users } = env;
  const { alice } = users;
  const claimsOf = (identity: unknown) => verifyIdentity(String(identity), { secret: gw.identitySecret, issuer: 'gatehouse', audience: 'gatehouse-upstream' });

  describe('each edge asks its own way; the answer is the same', () => {
    it.each<[string, string, Record<string, string>, string]>([
      ['nginx auth_request', P, { 'X-Original-URI': '/Api/v6/envelope/1?x=1', 'X-Original-Method': 'GET' }, 'GET'],
      ['ingress-nginx auth-url', P, { 'X-Original-URL': 'https://api.example.com/Api/v6/envelope/1?x=1', 'X-Original-Method': 'GET' }, 'GET'],
      ['Traefik ForwardAuth', P, { 'X-Forwarded-Uri': '/Api/v6/envelope/1?x=1', 'X-Forwarded-Method': 'GET' }, 'GET'],
      ['Envoy ext_authz (path_prefix)', `${P}/Api/v6/envelope/1?x=1`, {}, 'GET'],
      ['a HEAD decision (nginx keeps the original method)', P, { 'X-Original-URI': '/Api/v6/envelope/1?x=1' }, 'HEAD'],
    ])('%s: 200, the signed identity, the judged URI, no body', async (_name, path, headers, method) => {
      const res = await ask(gw.url, path, { ...headers, apiToken: alice.token, 'X-Request-Id': `fa-${method}-${path.length}` }, { method });
      expect([res.status, res.headers['x-gatehouse-error']]).toEqual([200, undefined]);
      expect(res.body).toBe('');
      expect(claimsOf(res.headers['x-gatehouse-identity'])).toMatchObject({ sub: alice.userId, login: alice.login, kind: 'api-token', tid: alice.tokenId });
      expect(res.headers['x-gatehouse-uri']).toBe('/Api/v6/envelope/1?x=1');
      expect(res.headers['x-gatehouse-upstream']).toBe('envelope');
      expect(res.headers['x-request-id']).toBe(`fa-${method}-${path.length}`);
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('names the upstream the route table gives the resource', async () => {
      const res = await ask(gw.url, `${P}/Api/v6/templates/7`, { apiToken: alice.token });
      expect([res.status, res.headers['x-gatehouse-upstream']]).toEqual([200, 'template']);
    });

    it("a restricted token is judged against the edge's original call: its family and access, the perms in the identity", async () => {
      const { secret } = await env.ts.store.admin.createApiToken(TEST_ACTOR, alice.login, 'fa restricted', { enabled: true, restrictions: { permissions: ['envelope:read'] } });
      env.secrets.push(secret);
      const read = await ask(gw.url, P, { apiToken: secret, 'X-Forwarded-Uri': '/Api/v6/envelope/1', 'X-Forwarded-Method': 'GET' });
      expect(read.status).toBe(200);
      expect(claimsOf(read.headers['x-gatehouse-identity'])).toMatchObject({ perms: 'envelope:read', scope: 'api:read' });
      const find = await ask(gw.url, P, { apiToken: secret, 'X-Forwarded-Uri': '/Api/v6/envelope/find', 'X-Forwarded-Method': 'POST' });
      expect(find.status).toBe(200);
      const send = await ask(gw.url, P, { apiToken: secret, 'X-Forwarded-Uri': '/Api/v6/envelope/send', 'X-Forwarded-Method': 'POST' });
      expect([send.status, send.json.ErrorId]).toEqual([403, 'TokenRestricted']);
      expect(JSON.parse(String(send.headers['x-gatehouse-error']))).toMatchObject({ ErrorId: 'TokenRestricted' });
      expect(send.json.Message).toContain('envelope:write');
    });

    it('a refusal: the REST error body with its status and headers, and both again as headers for nginx', async () => {
      const res = await ask(gw.url, `${P}/Api/v6/envelope/1`, { apiToken: users.disabled.token });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ ErrorId: 'CredentialDisabled', Message: expect.any(String), SupportId: res.headers['x-request-id'] });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.headers['x-gatehouse-status']).toBe('401');
      expect(JSON.parse(String(res.headers['x-gatehouse-error']))).toEqual(res.json);
      expect(res.headers['x-gatehouse-identity']).toBeUndefined();
    });

    it('a public call is allowed without a credential and without an identity', async () => {
      const res = await ask(gw.url, `${P}/Api/v6/version`);
      expect(res.status).toBe(200);
      expect(res.headers['x-gatehouse-identity']).toBeUndefined();
      expect(res.headers['x-gatehouse-uri']).toBe('/Api/v6/version');
      // POST to version is not the public call
      expect((await ask(gw.url, `${P}/Api/v6/version`, {}, { method: 'POST' })).status).toBe(401);
    });

    it('an organization token: the version fence, the deprecation headers on the decision', async () => {
      const orgs = await seedOrgTokenOrg(env.store, true, await seedOtherOrgUser(env.store, `fa-other-${randomUUID().slice(0, 8)}@example.test`));
      env.secrets.push(orgs.token);
      const h = { organizationKey: orgs.token, userLoginName: orgs.logins.enabled };
      const ok = await ask(gw.url, `${P}/Api/v5/envelope/1`, h);
      expect(ok.status).toBe(200);
      expect(claimsOf(ok.headers['x-gatehouse-identity']).kind).toBe('org-token');
      expect(ok.headers.deprecation).toMatch(/^@\d+$/);
      const fenced = await ask(gw.url, `${P}/Api/v6/envelope/1`, h);
      expect([fenced.status, fenced.json.ErrorId]).toEqual([403, 'VersionNotAllowed']);
      expect(fenced.headers.deprecation).toMatch(/^@\d+$/);
    });

    it('a token expiring within 7 days: X-Gatehouse-Token-Expires on the decision', async () => {
      const u = await seedUser(env.store, { expiresAt: new Date(Date.now() + 2 * 86_400_000).toISOString() });
      env.secrets.push(u.token);
      const res = await ask(gw.url, `${P}/Api/v6/envelope/1`, { apiToken: u.token });
      expect(res.status).toBe(200);
      expect(Date.parse(String(res.headers['x-gatehouse-token-expires']))).toBeGreaterThan(Date.now());
    });

    it('a head the edge server refuses (a method override, two Authorization values) is refused as a decision, readable by nginx', async () => {
      const override = await ask(gw.url, `${P}/Api/v6/envelope/1`, { apiToken: alice.token, 'X-HTTP-Method-Override': 'DELETE' });
      expect([override.status, override.json.ErrorId, override.headers['x-gatehouse-status']]).toEqual([400, 'MethodOverrideRefused', '400']);
      expect(JSON.parse(String(override.headers['x-gatehouse-error']))).toEqual(override.json);
      expect(override.headers['x-gatehouse-identity']).toBeUndefined();
    });

    it('refuses a decision about no request, or about two (a client header beside the edge one)', async () => {
      expect((await ask(gw.url, P, { apiToken: alice.token })).json.ErrorId).toBe('OriginalRequestMissing');
      const two = await ask(gw.url, P, { apiToken: alice.token, 'X-Original-URI': '/Api/v6/envelope/1', 'X-Forwarded-Uri': '/Api/v5/envelope/1' });
      expect([two.status, two.json.ErrorId, two.headers['x-gatehouse-status']]).toEqual([400, 'OriginalRequestConflict', '400']);
    });

    it('a decision URL that climbs out of the decision path is refused, not judged (an edge proxying it for a client)', async () => {
      for (const path of [`${P}/../../settings`, `${P}/Api/v6/../../../../Api/v6/envelope/1`, `${P}/..%2f..%2fapi.asmx`]) {
        const res = await ask(gw.url, path, { apiToken: alice.token, 'X-Original-URI': '/Api/v6/envelope/1' });
        expect([path, res.status, res.json.ErrorId, res.headers['x-gatehouse-identity']]).toEqual([path, 400, 'PathRefused', undefined]);
      }
    });

    it('edgeForwards original: a path the edge would forward differently from what is judged is refused', async () => {
      for (const uri of ['/Api/v6/../v5/envelope/1', '/Api/v6/%2e%2e/v5/envelope/1', '//Api/v6/envelope/1', '/Api/v6/%65nvelope/1']) {
        const res = await ask(gw.url, P, { apiToken: alice.token, 'X-Original-URI': uri });
        expect([uri, res.status, res.json.ErrorId]).toEqual([uri, 400, 'PathRefused']);
      }
    });
  });

  describe('who may ask', () => {
    it('any other peer finds nothing there: the same 404 as a path that never existed', async () => {
      for (const path of [P, `${P}/Api/v6/envelope/1`, `${P}?x=1`]) {
        const res = await ask(gw.url, path, { apiToken: alice.token, 'X-Original-URI': '/Api/v6/envelope/1' }, { from: '127.0.0.2' });
        const never = await ask(gw.url, '/_gatehouse/nothing', {}, { from: '127.0.0.2' });
        expect([res.status, res.json.ErrorId, res.headers['x-gatehouse-identity']]).toEqual([never.status, never.json.ErrorId, undefined]);
      }
      // a path that only starts like it is not it
      expect((await ask(gw.url, `${P}x/Api/v6/envelope/1`, { apiToken: alice.token })).status).toBe(404);
    });

    it('off (the default): the path does not exist, even for the edge', async () => {
      const off = await env.startGateway();
      const res = await ask(off.url, `${P}/Api/v6/envelope/1`, { apiToken: alice.token });
      expect([res.status, res.json.ErrorId, res.headers['x-gatehouse-identity']]).toEqual([404, 'RouteNotFound', undefined]);
    });
  });

  describe('the client behind the edge', () => {
    const lastUsedIp = async (u: { login: string; tokenId: string }) => {
      for (let i = 0; i < 50; i++) {
        const t = (await env.store.admin.listApiTokens(u.login)).find((x) => x.id === u.tokenId);
        if (t?.lastUsedAt) return t.lastUsedIp;
        await new Promise((r) => setTimeout(r, 50));
      }
      return undefined;
    };

    it('is the edge X-Forwarded-For walked from the right (the edge trusted), else its X-Real-IP', async () => {
      const a = await seedUser(env.store);
      const b = await seedUser(env.store);
      env.secrets.push(a.token, b.token);
      expect((await ask(gw.url, `${P}/Api/v6/envelope/1`, { apiToken: a.token, 'X-Forwarded-For': '198.51.100.1, 203.0.113.9' })).status).toBe(200);
      expect((await ask(gw.url, `${P}/Api/v6/envelope/1`, { apiToken: b.token, 'X-Real-IP': '203.0.113.7' })).status).toBe(200);
      expect(await lastUsedIp(a)).toBe('203.0.113.9');
      expect(await lastUsedIp(b)).toBe('203.0.113.7');
    });

    it('is what the failed-authentication limit counts: one address blocked, its neighbours not', async () => {
      const guess = (ip: string) => ask(gw.url, `${P}/Api/v6/envelope/1`, { apiToken: mintToken('user'), 'X-Forwarded-For': ip });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await guess('192.0.2.66')).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      const blocked = await ask(gw.url, `${P}/Api/v6/envelope/1`, { apiToken: alice.token, 'X-Forwarded-For': '192.0.2.66' });
      expect([blocked.status, blocked.json.ErrorId, blocked.headers['x-gatehouse-status']]).toEqual([429, 'TooManyFailedAttempts', '429']);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect((await guess('192.0.2.67')).status).toBe(401);
      expect((await ask(gw.url, `${P}/Api/v6/envelope/1`, { apiToken: alice.token, 'X-Forwarded-For': '192.0.2.67' })).status).toBe(200);
    });
  });

  it('an OAuth access token: its scope is judged against the original method, not the decision request’s', async () => {
    const { client } = await new OAuthStore(env.store.db).registerClient(TEST_ACTOR, { name: `FA ${randomUUID().slice(0, 8)}`, redirectUris: [REDIRECT], public: true, description: 'x', logoUrl: 'https://example.test/l.png' });
    const config = await oidc.discovery(new URL(gw.url), client.id, undefined, oidc.None(), { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'api:read', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const callback = await consent(gw.url, url.href, alice.login);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
    env.secrets.push(tokens.access_token, tokens.refresh_token!, callback.searchParams.get('code')!);
    await gw.gateway.follower.poll();
    const bearer = { Authorization: `Bearer ${tokens.access_token}` };
    const read = await ask(gw.url, P, { ...bearer, 'X-Forwarded-Uri': '/Api/v6/envelope/1', 'X-Forwarded-Method': 'GET' });
    expect(read.status).toBe(200);
    expect(claimsOf(read.headers['x-gatehouse-identity'])).toMatchObject({ sub: alice.userId, kind: 'oauth' });
    // Traefik asks with GET about a POST; Envoy asks with the POST itself
    const traefik = await ask(gw.url, P, { ...bearer, 'X-Forwarded-Uri': '/Api/v6/envelope', 'X-Forwarded-Method': 'POST' });
    const envoy = await ask(gw.url, `${P}/Api/v6/envelope`, bearer, { method: 'POST' });
    for (const res of [traefik, envoy]) expect([res.status, res.json.ErrorId]).toEqual([403, 'ScopeInsufficient']);
  });
});
