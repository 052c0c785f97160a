// The OAuth authorization server, tried as an attacker (and as a plain client library) would
// (issue 19, items 10, 12 and 13), over real HTTP with openid-client as the client:
//   10. a failed code exchange (wrong code_verifier or redirect_uri) neither spends the code nor
//       revokes anything: whoever intercepts a code cannot spoil it for the client; a replay revokes
//       the grant only when the replaying request is itself valid (OAuth 2.1 draft, oidc-provider);
//   12. a refresh refused for its scope spends nothing; a narrowed scope holds for that one access
//       token only (the new refresh token keeps the original scope, RFC 6749 §6); `api` includes `api:read`;
//   13. browser-based public clients: CORS on the token and revocation endpoints for the origins of
//       the public clients' redirect URIs only (preflights with Node fetch, and Chromium at two
//       origins); metadata and JWKS to every origin; another origin's token request is refused before
//       it runs; no CORS anywhere else; GET /oauth/token is a 405 in the OAuth error form.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import * as oidc from 'openid-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthStore } from '../../src/store/oauth-store.js';
import { launchChromium, type Browser } from '../helpers/chromium.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { consent } from '../helpers/oauth-flow.js';
import { useGateway } from '../helpers/use-gateway.js';

const REDIRECT = 'http://127.0.0.1:9/callback';
const { ts, gw, users: { alice } } = useGateway({ users: { alice: { password: true } } });

const oauth = () => new OAuthStore(ts.store.db);
async function registerClient(opts: { redirectUris?: string[]; public?: boolean } = {}) {
  const { client, secret } = await oauth().registerClient(TEST_ACTOR, { name: `App ${randomUUID().slice(0, 8)}`, redirectUris: opts.redirectUris ?? [REDIRECT], public: opts.public ?? true });
  return { id: client.id, secret };
}
async function discover(client: { id: string }) {
  return oidc.discovery(new URL(gw.url), client.id, undefined, oidc.None(), { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] });
}
/** Up to the callback: a code the client holds with its verifier. */
async function codeFor(config: oidc.Configuration, scope = 'api') {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
  const callback = await consent(gw.url, url.href, alice.login);
  return { callback, verifier, state, code: callback.searchParams.get('code')! };
}
const exchange = (config: oidc.Configuration, c: { callback: URL; verifier: string; state: string }) =>
  oidc.authorizationCodeGrant(config, c.callback, { pkceCodeVerifier: c.verifier, expectedState: c.state });
const tokenEndpoint = (form: Record<string, string>, headers: Record<string, string> = {}) => request(gw.url).post('/oauth/token').set(headers).type('form').send(form);
const rest = async (method: 'get' | 'post', token: string) => {
  await gw.gateway.follower.poll();
  return request(gw.url)[method]('/Api/v6/envelope/1').set('Authorization', `Bearer ${token}`);
};

describe('10. a failed code exchange does not burn the code', () => {
  it('a wrong code_verifier is refused, and the client then exchanges the same code with its own (the grant is not revoked)', async () => {
    const c = await registerClient();
    const config = await discover(c);
    // The user already uses the app: a live grant with a refresh token
    const earlier = await exchange(config, await codeFor(config));
    const flow = await codeFor(config);
    // The attacker has the code (from a log, a referrer, a history) but not the verifier
    const spoil = await tokenEndpoint({ grant_type: 'authorization_code', code: flow.code, redirect_uri: REDIRECT, client_id: c.id, code_verifier: oidc.randomPKCECodeVerifier() });
    expect(spoil.status).toBe(400);
    expect(spoil.body).toEqual({ error: 'invalid_grant', error_description: 'code_verifier does not match the code challenge.' });
    const missing = await tokenEndpoint({ grant_type: 'authorization_code', code: flow.code, redirect_uri: REDIRECT, client_id: c.id });
    expect(missing.body.error).toBe('invalid_grant');
    // The client's own exchange succeeds, and the earlier tokens of the grant still work
    const tokens = await exchange(config, flow);
    expect((await rest('get', tokens.access_token)).status).toBe(200);
    expect((await rest('get', earlier.access_token)).status).toBe(200);
    const again = await oidc.refreshTokenGrant(config, earlier.refresh_token!);
    expect(again.access_token).toBeTruthy();
  });

  it('a wrong or missing redirect_uri is refused without spending the code', async () => {
    const c = await registerClient({ redirectUris: [REDIRECT, 'http://127.0.0.1:9/other'] });
    const config = await discover(c);
    const flow = await codeFor(config);
    for (const redirect_uri of ['http://127.0.0.1:9/other', 'http://127.0.0.1:9/callback/', undefined]) {
      const res = await tokenEndpoint({ grant_type: 'authorization_code', code: flow.code, client_id: c.id, code_verifier: flow.verifier, ...(redirect_uri ? { redirect_uri } : {}) });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'redirect_uri does not match the authorization request.' });
    }
    const tokens = await exchange(config, flow);
    expect((await rest('get', tokens.access_token)).status).toBe(200);
  });

  it('another client presenting the code spends nothing', async () => {
    const c = await registerClient();
    const other = await registerClient();
    const config = await discover(c);
    const flow = await codeFor(config);
    const res = await tokenEndpoint({ grant_type: 'authorization_code', code: flow.code, redirect_uri: REDIRECT, client_id: other.id, code_verifier: flow.verifier });
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'The authorization code is not valid.' });
    expect((await rest('get', (await exchange(config, flow)).access_token)).status).toBe(200);
  });

  it('a replay with a wrong verifier or redirect_uri is refused but revokes nothing; a valid replay still revokes the grant', async () => {
    const c = await registerClient();
    const config = await discover(c);
    const flow = await codeFor(config);
    const tokens = await exchange(config, flow);
    // Someone who has only the (spent) code cannot revoke the user's grant with it
    const badVerifier = await tokenEndpoint({ grant_type: 'authorization_code', code: flow.code, redirect_uri: REDIRECT, client_id: c.id, code_verifier: oidc.randomPKCECodeVerifier() });
    expect(badVerifier.body.error).toBe('invalid_grant');
    const badRedirect = await tokenEndpoint({ grant_type: 'authorization_code', code: flow.code, redirect_uri: 'http://127.0.0.1:9/x', client_id: c.id, code_verifier: flow.verifier });
    expect(badRedirect.body.error).toBe('invalid_grant');
    expect((await rest('get', tokens.access_token)).status).toBe(200);
    // The same code with everything right, a second time: the code leaked with its verifier
    const replay = await tokenEndpoint({ grant_type: 'authorization_code', code: flow.code, redirect_uri: REDIRECT, client_id: c.id, code_verifier: flow.verifier });
    expect(replay.body).toEqual({ error: 'invalid_grant', error_description: 'The authorization code has already been used.' });
    expect((await rest('get', tokens.access_token)).status).toBe(401);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('two exchanges of one code at once: one gets tokens, the other is a replay', async () => {
    const c = await registerClient();
    const config = await discover(c);
    const flow = await codeFor(config);
    const form = { grant_type: 'authorization_code', code: flow.code, redirect_uri: REDIRECT, client_id: c.id, code_verifier: flow.verifier };
    const answers = await Promise.all([tokenEndpoint(form), tokenEndpoint(form)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
  });
});

describe('12. refresh: validate before spending, the scope of one issuance, api includes api:read', () => {
  it('a refresh refused for its scope spends nothing: the retry without it succeeds, the grant lives', async () => {
    const c = await registerClient();
    const config = await discover(c);
    const tokens = await exchange(config, await codeFor(config, 'api:read'));
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'api' })).rejects.toMatchObject({ error: 'invalid_scope' });
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'api:write' })).rejects.toMatchObject({ error: 'invalid_scope' });
    const next = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(next.scope).toBe('api:read');
    expect((await rest('get', next.access_token)).status).toBe(200);
    expect((await rest('get', tokens.access_token)).status).toBe(200);
  });

  it('api:read on an api grant: that access token is read-only, the next refresh has api again', async () => {
    const c = await registerClient();
    const config = await discover(c);
    const tokens = await exchange(config, await codeFor(config, 'api'));
    const narrow = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'api:read' });
    expect(narrow.scope).toBe('api:read');
    expect(jwt.decode(narrow.access_token)).toMatchObject({ scope: 'api:read' });
    expect((await rest('get', narrow.access_token)).status).toBe(200);
    expect((await rest('post', narrow.access_token)).status).toBe(403);
    // RFC 6749 §6: the new refresh token has the scope of the one it replaces
    const wide = await oidc.refreshTokenGrant(config, narrow.refresh_token!);
    expect(wide.scope).toBe('api');
    expect(jwt.decode(wide.access_token)).toMatchObject({ scope: 'api' });
    const stored = await oauth().findRefreshToken(wide.refresh_token!);
    expect(stored?.scope).toBe('api');
    // Asking for what was granted (or both) is not a narrowing and is accepted too
    const same = await oidc.refreshTokenGrant(config, wide.refresh_token!, { scope: 'api api:read' });
    expect(same.scope).toBe('api api:read');
  });

  it('a spent refresh token is a reuse whatever scope it asks for, and revokes the grant', async () => {
    const c = await registerClient();
    const config = await discover(c);
    const tokens = await exchange(config, await codeFor(config, 'api:read'));
    const next = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'api' })).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await rest('get', next.access_token)).status).toBe(401);
  });
});

describe('13. CORS for browser-based public clients', () => {
  const SPA = 'https://spa.example';
  const OTHER_SPA = 'https://other-spa.example';
  const SERVER = 'https://server.example';
  let spa: { id: string };
  let otherSpa: { id: string };
  let confidential: { id: string; secret?: string };
  beforeAll(async () => {
    spa = await registerClient({ redirectUris: [`${SPA}/callback`, 'com.example.app:/cb'] });
    otherSpa = await registerClient({ redirectUris: [`${OTHER_SPA}/cb`] });
    confidential = await registerClient({ redirectUris: [`${SERVER}/cb`], public: false });
  });

  /** A code for `clientId` as the authorization endpoint would issue it (consent given), with its verifier. */
  async function code(clientId: string, redirectUri: string) {
    const verifier = randomBytes(32).toString('base64url');
    const { code } = await oauth().authorize(TEST_ACTOR, { userId: alice.userId, organizationId: alice.organizationId, clientId, scope: 'api', redirectUri, codeChallenge: createHash('sha256').update(verifier).digest('base64url') });
    return { code, verifier, form: { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier } };
  }
  const post = (path: string, form: Record<string, string>, origin?: string) =>
    fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) }, body: new URLSearchParams(form) });
  const preflight = (path: string, origin: string, method = 'POST', headers = 'content-type') =>
    fetch(gw.url + path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });
  const varies = (res: Response) => (res.headers.get('vary') ?? '').split(',').map((v) => v.trim().toLowerCase());

  it('a preflight from a public client’s redirect origin is answered (exact origin, Vary, methods, headers, no credentials)', async () => {
    for (const path of ['/oauth/token', '/ApiToken/Retrieve', '/oauth/revoke']) {
      const res = await preflight(path, SPA);
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(SPA);
      expect(varies(res)).toContain('origin');
      expect(res.headers.get('access-control-allow-methods')).toBe('POST');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toBe('content-type');
      expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
    expect((await preflight('/oauth/token', OTHER_SPA)).headers.get('access-control-allow-origin')).toBe(OTHER_SPA);
  });

  it('a preflight from any other origin gets no CORS headers: unknown, a confidential client’s, a look-alike, "null" (an app’s custom scheme)', async () => {
    for (const origin of ['https://evil.example', SERVER, 'https://spa.example:444', 'http://spa.example', 'https://spa.example.evil.example', 'null']) {
      for (const path of ['/oauth/token', '/oauth/revoke']) {
        const res = await preflight(path, origin);
        expect(res.status, `${origin} ${path}`).toBe(403);
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
        expect(res.headers.get('access-control-allow-methods')).toBeNull();
        expect(varies(res)).toContain('origin');
      }
    }
  });

  it('the token request from the client’s origin is answered with CORS headers, its errors too', async () => {
    const c = await code(spa.id, `${SPA}/callback`);
    const res = await post('/oauth/token', c.form, SPA);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(SPA);
    expect(varies(res)).toContain('origin');
    expect(res.headers.get('access-control-expose-headers')).toBe('X-Request-Id');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const tokens = (await res.json()) as { access_token: string; refresh_token: string };
    expect((await rest('get', tokens.access_token)).status).toBe(200);
    const again = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: spa.id, scope: 'nope' }, SPA);
    expect(again.status).toBe(400);
    expect(again.headers.get('access-control-allow-origin')).toBe(SPA);
    expect(await again.json()).toMatchObject({ error: 'invalid_scope' });
    // Revocation from the same origin
    const revoked = await post('/oauth/revoke', { token: tokens.refresh_token, client_id: spa.id }, SPA);
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get('access-control-allow-origin')).toBe(SPA);
    expect((await rest('get', tokens.access_token)).status).toBe(401);
  });

  it('another origin’s token request is refused before it runs: the code stays the client’s', async () => {
    const c = await code(spa.id, `${SPA}/callback`);
    for (const origin of ['https://evil.example', SERVER, 'null']) {
      const res = await post('/oauth/token', c.form, origin);
      expect(res.status, origin).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('origin') });
    }
    // From another public client's origin, naming this client: refused once the client is known
    const crossed = await post('/oauth/token', c.form, OTHER_SPA);
    expect(crossed.status).toBe(403);
    expect((await crossed.json()).error).toBe('invalid_request');
    // A confidential client never answers a browser, even from a registered public origin
    const conf = await code(confidential.id, `${SERVER}/cb`);
    const asConfidential = await post('/oauth/token', { ...conf.form, client_secret: confidential.secret! }, SPA);
    expect(asConfidential.status).toBe(403);
    expect((await post('/oauth/token', { ...conf.form, client_secret: confidential.secret! })).status).toBe(200);
    // The client itself then exchanges its code
    const ok = await post('/oauth/token', c.form, SPA);
    expect(ok.status).toBe(200);
  });

  it('another origin’s revocation is refused, and the tokens keep working', async () => {
    const c = await code(spa.id, `${SPA}/callback`);
    const tokens = (await (await post('/oauth/token', c.form)).json()) as { access_token: string; refresh_token: string };
    const res = await post('/oauth/revoke', { token: tokens.refresh_token, client_id: spa.id }, 'https://evil.example');
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect((await rest('get', tokens.access_token)).status).toBe(200);
  });

  it('metadata and JWKS are readable from any origin (*), preflight included', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/jwks.json']) {
      const res = await fetch(gw.url + path, { headers: { origin: 'https://anyone.example' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      const pre = await preflight(path, 'https://anyone.example', 'GET', 'accept');
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('*');
      expect(pre.headers.get('access-control-allow-methods')).toBe('GET, HEAD');
    }
  });

  it('no CORS anywhere else: introspection, the authorization endpoint, the settings API, the REST API', async () => {
    const origin = SPA;
    const answers = [
      await preflight('/oauth/introspect', origin),
      await post('/oauth/introspect', { token: 'x', client_id: spa.id }, origin),
      await fetch(`${gw.url}/oauth/authorize?client_id=${spa.id}`, { headers: { origin }, redirect: 'manual' }),
      await preflight('/settings/api/me', origin, 'GET'),
      await fetch(`${gw.url}/settings/api/me`, { headers: { origin } }),
      await preflight('/Api/v6/envelope/1', origin, 'GET', 'authorization'),
      await fetch(`${gw.url}/Api/v6/envelope/1`, { headers: { origin, authorization: `Bearer ${alice.token}` } }),
    ];
    for (const res of answers) {
      expect(res.headers.get('access-control-allow-origin'), res.url).toBeNull();
      expect(res.headers.get('access-control-allow-methods'), res.url).toBeNull();
    }
  });

  it('GET /oauth/token (and the other POST-only endpoints) is a 405 in the OAuth error form, with Allow', async () => {
    for (const path of ['/oauth/token', '/ApiToken/Retrieve', '/oauth/revoke', '/oauth/introspect']) {
      const res = await fetch(gw.url + path);
      expect(res.status, path).toBe(405);
      expect(res.headers.get('allow')).toBe('POST, OPTIONS');
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/POST/) });
    }
    const put = await fetch(`${gw.url}/oauth/token`, { method: 'PUT' });
    expect(put.status).toBe(405);
  });

  describe('in Chromium: an application at the client’s redirect origin, and another site', () => {
    let browser: Browser;
    let app: http.Server;
    let other: http.Server;
    let appOrigin: string;
    let otherOrigin: string;
    let client: { id: string };
    const listen = async (server: http.Server) => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    beforeAll(async () => {
      const page = (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><p>app</p>');
      app = http.createServer(page);
      other = http.createServer(page);
      appOrigin = await listen(app);
      otherOrigin = await listen(other);
      client = await registerClient({ redirectUris: [`${appOrigin}/callback`] });
      browser = await launchChromium();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await Promise.all([app, other].map((s) => new Promise((r) => s?.close(r))));
    });

    const accessLines = () =>
      gw.logs
        .map((l) => JSON.parse(l) as { message?: string; method?: string; status?: number })
        .filter((l) => l.message === 'access');
    /** Runs the token request in a page of `origin` with fetch: the JSON, or the error fetch threw. */
    async function fromPage(origin: string, path: string, form: Record<string, string>, contentType = 'application/x-www-form-urlencoded') {
      const page = await browser.context.newPage();
      try {
        await page.goto(`${origin}/`);
        return await page.evaluate(
          async ({ url, body, contentType }) => {
            try {
              const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: new URLSearchParams(body) });
              return { status: res.status, body: (await res.text()) || null };
            } catch (e) {
              return { error: String(e) };
            }
          },
          { url: gw.url + path, body: form, contentType },
        );
      } finally {
        await page.close();
      }
    }

    it('the application reads the metadata and JWKS, exchanges a code (simple and preflighted), refreshes and revokes', async () => {
      const page = await browser.context.newPage();
      await page.goto(`${appOrigin}/`);
      const discovered = await page.evaluate(async (base) => {
        const meta = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as { token_endpoint: string; jwks_uri: string };
        const jwks = (await (await fetch(meta.jwks_uri)).json()) as { keys: unknown[] };
        return { token: meta.token_endpoint, keys: jwks.keys.length };
      }, gw.url);
      await page.close();
      expect(discovered).toEqual({ token: `${gw.url}/oauth/token`, keys: 1 });

      const c = await code(client.id, `${appOrigin}/callback`);
      const exchanged = await fromPage(appOrigin, '/oauth/token', c.form);
      expect(exchanged.status).toBe(200);
      const tokens = JSON.parse(exchanged.body!) as { access_token: string; refresh_token: string };
      expect((await rest('get', tokens.access_token)).status).toBe(200);

      // A quoted charset makes Content-Type a non-safelisted header: Chromium sends a real preflight first
      const preflights = () => accessLines().filter((l) => l.method === 'OPTIONS' && l.status === 204).length;
      const before = preflights();
      const refreshed = await fromPage(appOrigin, '/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.id }, 'application/x-www-form-urlencoded; charset="utf-8"');
      expect(refreshed.status).toBe(200);
      await expect.poll(preflights).toBe(before + 1);
      const next = JSON.parse(refreshed.body!) as { access_token: string; refresh_token: string };

      const revoked = await fromPage(appOrigin, '/oauth/revoke', { token: next.refresh_token, client_id: client.id });
      expect(revoked).toEqual({ status: 200, body: null });
      expect((await rest('get', next.access_token)).status).toBe(401);
    });

    it('another site’s page is blocked and its request does not run: the code is still the application’s', async () => {
      const c = await code(client.id, `${appOrigin}/callback`);
      const blocked = await fromPage(otherOrigin, '/oauth/token', c.form);
      expect(blocked.error).toMatch(/TypeError|Failed to fetch/);
      const preflighted = await fromPage(otherOrigin, '/oauth/token', c.form, 'application/x-www-form-urlencoded; charset="utf-8"');
      expect(preflighted.error).toMatch(/TypeError|Failed to fetch/);
      const exchanged = await fromPage(appOrigin, '/oauth/token', c.form);
      expect(exchanged.status).toBe(200);
    });
  });
});
