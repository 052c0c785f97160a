// The OAuth2 authorization server end to end, over real HTTP, with a real OAuth client library
// (openid-client 6): authorize with PKCE, consent, exchange, call REST (200), refresh, revoke in
// Apps and Connections, call again (401). Then the refusals: redirect URI, PKCE, replayed code,
// reused refresh token, forged / expired / other-audience / alg:none JWTs, disabled client and
// user, api:read on POST, and no secret in any log line.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import * as oidc from 'openid-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/tokens/token-format.js';
import { OAuthStore } from '../../src/store/oauth-store.js';
import { SOAP11_NS, TNS } from '../../src/soap/protocol.js';
import { seedUser, TEST_ACTOR } from '../helpers/fixtures.js';
import { consent } from '../helpers/oauth-flow.js';
import { givePassword, signIn } from '../helpers/settings-client.js';
import { useGateway } from '../helpers/use-gateway.js';

const REDIRECT = 'http://127.0.0.1:9/callback';
let keyDir: string;
let privatePem: string;
let kid: string;
const secrets: string[] = [];

// A signing key from a file, as in production; the test keeps it to forge tokens. Written before
// the gateway starts (this hook is registered first), removed after it is gone (so run last).
beforeAll(() => {
  keyDir = mkdtempSync(join(tmpdir(), 'gatehouse-oauth-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(join(keyDir, 'key.pem'), privatePem);
});
afterAll(() => {
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});
const { ts, gw, users: { alice } } = useGateway({
  overrides: () => ({ oauth: { signingKeyFile: join(keyDir, 'key.pem') } }),
  users: { alice: { password: true } },
});
beforeAll(async () => {
  kid = ((await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys[0]!.kid;
});

const oauth = () => new OAuthStore(ts.store.db);
async function registerClient(opts: { public?: boolean; name?: string } = {}) {
  const { client, secret } = await oauth().registerClient(TEST_ACTOR, { name: opts.name ?? `App ${randomUUID().slice(0, 8)}`, redirectUris: [REDIRECT], public: opts.public ?? true, description: 'Signs your contracts', logoUrl: 'https://example.test/logo.png' });
  if (secret) secrets.push(secret);
  return { id: client.id, secret };
}
async function discover(client: { id: string; secret?: string }) {
  return oidc.discovery(new URL(gw.url), client.id, client.secret ? { client_secret: client.secret } : undefined, client.secret ? oidc.ClientSecretPost(client.secret) : oidc.None(), {
    algorithm: 'oauth2',
    execute: [oidc.allowInsecureRequests],
  });
}
async function authorize(config: oidc.Configuration, login: string, scope = 'api') {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
  const callback = await consent(gw.url, url.href, login);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  secrets.push(tokens.access_token, tokens.refresh_token!, callback.searchParams.get('code')!);
  return { tokens, callback, verifier };
}
const restGet = async (token: string) => {
  await gw.gateway.follower.poll();
  return request(gw.url).get('/Api/v6/envelope/1').set('Authorization', `Bearer ${token}`);
};
const tokenEndpoint = (form: Record<string, string>) => request(gw.url).post('/oauth/token').type('form').send(form);

describe('the whole flow with openid-client', () => {
  it('authorize with PKCE, consent, exchange, REST 200, refresh, revoke in Apps and Connections, REST 401', async () => {
    const client = await registerClient();
    const config = await discover(client);
    const { tokens, callback } = await authorize(config, alice.login);
    expect(callback.searchParams.get('iss')).toBe(gw.url);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(600);
    const header = jwt.decode(tokens.access_token, { complete: true })!.header;
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid });
    expect(jwt.decode(tokens.access_token)).toMatchObject({ iss: gw.url, aud: 'gatehouse-api', sub: alice.userId, client_id: client.id, scope: 'api' });

    const ok = await restGet(tokens.access_token);
    expect(ok.status).toBe(200);
    // The upstream is told who the call acts for, and how it was authenticated.
    expect(ok.body.CalledBy).toMatchObject({ UserId: alice.userId, AuthKind: 'oauth' });
    expect(ok.body.CalledBy.ReceivedHeaders).not.toContain('authorization');

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    secrets.push(refreshed.access_token, refreshed.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await restGet(refreshed.access_token)).status).toBe(200);

    const me = await signIn(gw.url, alice.login);
    const apps = await me.call({ method: 'GET', template: '/apps' });
    const app = apps.body.find((a: { clientId: string }) => a.clientId === client.id);
    expect(app).toMatchObject({ name: expect.stringMatching(/^App /), description: 'Signs your contracts', logoUrl: 'https://example.test/logo.png', scopes: ['api'] });
    expect(app.lastUsedAt).not.toBeNull();
    expect((await me.call({ method: 'DELETE', template: '/apps/{grantId}', path: `/apps/${app.id}` })).status).toBe(204);

    const after = await restGet(refreshed.access_token);
    expect(after.status).toBe(401);
    expect(after.body.ErrorId).toBe('AccessTokenInvalid');
    expect(after.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await me.call({ method: 'GET', template: '/apps' })).body.some((a: { clientId: string }) => a.clientId === client.id)).toBe(false);
    const metrics = await (await fetch(gw.metricsUrl)).text();
    expect(metrics).toMatch(/gatehouse_oauth_token_requests_total\{grant_type="refresh_token",outcome="issued"\} [1-9]/);
  });

  it('a confidential client authenticates with its gts_ secret, introspects and revokes (RFC 7662, 7009)', async () => {
    const client = await registerClient({ public: false });
    expect(client.secret).toMatch(/^gts_/);
    const config = await discover(client);
    const { tokens } = await authorize(config, alice.login, 'api:read');
    const info = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(info).toMatchObject({ active: true, scope: 'api:read', client_id: client.id, sub: alice.userId });
    expect((await oidc.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(true);
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    expect((await restGet(tokens.access_token)).status).toBe(401);
    // A wrong secret
    const wrong = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: client.id, client_secret: 'gts_wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
  });

  it('publishes RFC 8414 metadata (S256 only) and the JWKS', async () => {
    const meta = (await request(gw.url).get('/.well-known/oauth-authorization-server')).body;
    expect(meta).toMatchObject({ issuer: gw.url, code_challenge_methods_supported: ['S256'], grant_types_supported: ['authorization_code', 'refresh_token'], jwks_uri: `${gw.url}/.well-known/jwks.json` });
    const jwks = (await request(gw.url).get('/.well-known/jwks.json')).body;
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid });
    expect(jwks.keys[0].d).toBeUndefined();
  });
});

describe('refusals', () => {
  const authUrl = (q: Record<string, string>) => `/oauth/authorize?${new URLSearchParams(q)}`;
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  it('a wrong redirect URI is shown to the user, never redirected to', async () => {
    const c = await registerClient();
    const res = await request(gw.url).get(authUrl({ response_type: 'code', client_id: c.id, redirect_uri: 'https://evil.test/cb', code_challenge: challenge, code_challenge_method: 'S256' }));
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toMatch(/redirect URI does not match/);
  });

  it('a missing redirect URI or unknown client is shown, not redirected', async () => {
    const c = await registerClient();
    for (const q of [{ response_type: 'code', client_id: c.id, code_challenge: challenge, code_challenge_method: 'S256' }, { response_type: 'code', client_id: randomUUID(), redirect_uri: REDIRECT }]) {
      const res = await request(gw.url).get(authUrl(q));
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    }
  });

  it('Deny sends access_denied back with state; a consent form posted from another site is refused', async () => {
    const c = await registerClient();
    const q = { response_type: 'code', client_id: c.id, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's1', scope: 'api' };
    const back = await consent(gw.url, `${gw.url}${authUrl(q)}`, alice.login, 'deny');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('s1');
    const { cookie, csrf } = await signIn(gw.url, alice.login);
    const forged = await request(gw.url).post('/settings/authorize').set('Cookie', cookie).set('Origin', 'https://evil.test').type('form').send({ ...q, csrf_token: csrf, decision: 'allow' });
    expect(forged.status).toBe(403);
    expect(forged.headers.location).toBeUndefined();
    const opaque = await request(gw.url).post('/settings/authorize').set('Cookie', cookie).set('Origin', 'null').type('form').send({ ...q, csrf_token: csrf, decision: 'allow' });
    expect(opaque.status).toBe(403);
    const noCsrf = await request(gw.url).post('/settings/authorize').set('Cookie', cookie).type('form').send({ ...q, decision: 'allow' });
    expect(noCsrf.status).toBe(403);
  });

  it.each([
    ['missing PKCE on a public client', {}],
    ['plain PKCE', { code_challenge: challenge, code_challenge_method: 'plain' }],
    ['a challenge without a method', { code_challenge: challenge }],
  ])('%s → invalid_request on the redirect URI, with state', async (_what, extra) => {
    const c = await registerClient();
    const res = await request(gw.url).get(authUrl({ response_type: 'code', client_id: c.id, redirect_uri: REDIRECT, state: 'xyz', ...extra }));
    expect(res.status).toBe(303);
    const back = new URL(res.headers.location!);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('state')).toBe('xyz');
  });

  it('a wrong code_verifier is refused', async () => {
    const c = await registerClient();
    const config = await discover(c);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'api', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const callback = await consent(gw.url, url.href, alice.login);
    const res = await tokenEndpoint({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, client_id: c.id, code_verifier: oidc.randomPKCECodeVerifier() });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('a replayed code is refused and revokes what it issued', async () => {
    const c = await registerClient();
    const config = await discover(c);
    const { tokens, callback, verifier } = await authorize(config, alice.login);
    expect((await restGet(tokens.access_token)).status).toBe(200);
    const replay = await tokenEndpoint({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, client_id: c.id, code_verifier: verifier });
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ error: 'invalid_grant', error_description: 'The authorization code has already been used.' });
    expect((await restGet(tokens.access_token)).status).toBe(401);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('a reused refresh token revokes the whole grant', async () => {
    const c = await registerClient();
    const config = await discover(c);
    const { tokens } = await authorize(config, alice.login);
    const next = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    secrets.push(next.access_token, next.refresh_token!);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await restGet(next.access_token)).status).toBe(401);
    await expect(oidc.refreshTokenGrant(config, next.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('unsupported grant types and non-form bodies get RFC 6749 errors, never a stack', async () => {
    const c = await registerClient();
    const pw = await tokenEndpoint({ grant_type: 'password', client_id: c.id, username: 'a', password: 'b' });
    expect(pw.status).toBe(400);
    expect(pw.body).toEqual({ error: 'unsupported_grant_type', error_description: expect.any(String) });
    const json = await request(gw.url).post('/ApiToken/Retrieve').send({ grant_type: 'authorization_code' });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
    expect(json.text).not.toMatch(/at .*\.js/);
  });

  describe('access tokens at the edge', () => {
    const claims = () => ({ client_id: 'c', scope: 'api', grant_id: randomUUID() });
    const sign = (payload: object, opts: jwt.SignOptions = {}) =>
      jwt.sign(payload, privatePem, { algorithm: 'ES256', keyid: kid, header: { typ: 'at+jwt', alg: 'ES256', kid }, issuer: gw.url, audience: 'gatehouse-api', subject: alice.userId, expiresIn: 600, ...opts });

    it('expired, tampered, other audience, alg none, wrong typ → 401 AccessTokenInvalid', async () => {
      const { tokens } = await authorize(await discover(await registerClient()), alice.login);
      const real = jwt.decode(tokens.access_token) as Record<string, unknown>;
      const [h, p, s] = tokens.access_token.split('.');
      const widened = Buffer.from(JSON.stringify({ ...real, sub: randomUUID() })).toString('base64url');
      const noneToken = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url')}.${p}.`;
      const { iat: _iat, exp: _exp, iss: _iss, aud: _aud, sub: _sub, jti: _jti, ...own } = real;
      const cases: [string, string][] = [
        ['expired (past the leeway)', sign(own, { expiresIn: -120 })],
        ['tampered payload', `${h}.${widened}.${s}`],
        ['another audience', sign(own, { audience: 'someone-else' })],
        ['alg none', noneToken],
        ['typ JWT (an ID token, say)', jwt.sign(own, privatePem, { algorithm: 'ES256', keyid: kid, issuer: gw.url, audience: 'gatehouse-api', subject: alice.userId, expiresIn: 600 })],
        ['another issuer', sign(own, { issuer: 'https://evil.test' })],
        ['an unknown key', jwt.sign(own, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { algorithm: 'ES256', keyid: kid, header: { typ: 'at+jwt', alg: 'ES256', kid }, issuer: gw.url, audience: 'gatehouse-api', subject: alice.userId, expiresIn: 600 })],
        ['a grant that does not exist', sign(claims())],
      ];
      for (const [what, token] of cases) {
        const res = await restGet(token);
        expect(res.status, what).toBe(401);
        expect(res.body.ErrorId, what).toBe('AccessTokenInvalid');
      }
      // Within the leeway (a few seconds of clock skew) it still works.
      expect((await restGet(sign(own, { expiresIn: -5 }))).status).toBe(200);
      // User API tokens keep working as Bearer.
      expect((await request(gw.url).get('/Api/v6/envelope/1').set('Authorization', `Bearer ${alice.token}`)).status).toBe(200);
    });

    it('api:read: GET 200, POST 403', async () => {
      const { tokens } = await authorize(await discover(await registerClient()), alice.login, 'api:read');
      expect((await restGet(tokens.access_token)).status).toBe(200);
      const post = await request(gw.url).post('/Api/v6/envelope').set('Authorization', `Bearer ${tokens.access_token}`).send({ a: 1 });
      expect(post.status).toBe(403);
      expect(post.body.ErrorId).toBe('ScopeInsufficient');
    });

    it('a disabled client: its grants are revoked, its tokens refused, the token endpoint says invalid_client', async () => {
      const c = await registerClient();
      const config = await discover(c);
      const { tokens } = await authorize(config, alice.login);
      await oauth().setClientEnabled(TEST_ACTOR, c.id, false);
      expect((await restGet(tokens.access_token)).status).toBe(401);
      const res = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: c.id });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      const auth = await request(gw.url).get(authUrl({ response_type: 'code', client_id: c.id, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' }));
      expect(new URL(auth.headers.location!).searchParams.get('error')).toBe('unauthorized_client');
    });

    it('a disabled user: grants revoked, tokens refused', async () => {
      const bob = await seedUser(ts.store, { org: alice.org });
      await givePassword(ts.store, bob.userId);
      const c = await registerClient();
      const { tokens } = await authorize(await discover(c), bob.login);
      expect((await restGet(tokens.access_token)).status).toBe(200);
      await ts.store.admin.setUserEnabled(TEST_ACTOR, bob.login, false);
      expect((await restGet(tokens.access_token)).status).toBe(401);
      expect((await oauth().appsOf(bob.userId)).length).toBe(0);
    });
  });
});

describe('SOAP', () => {
  const call = (token: string) =>
    fetch(`${gw.url}/api.asmx`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${TNS}SendEnvelope_v1"` },
      body: `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Header><AuthorizationHeader xmlns="${TNS}"><apiToken>${token}</apiToken></AuthorizationHeader></soap:Header><soap:Body><SendEnvelope_v1 xmlns="${TNS}"><authorizationXml></authorizationXml></SendEnvelope_v1></soap:Body></soap:Envelope>`,
    });

  it('takes the OAuth access token in the header element; api:read is refused SendEnvelope_v1 (it needs envelope:write); revoked → baseResult failed', async () => {
    const c = await registerClient();
    const config = await discover(c);
    const full = await authorize(config, alice.login, 'api');
    expect((await call(full.tokens.access_token)).status).toBe(200);
    const read = await authorize(await discover(await registerClient()), alice.login, 'api:read');
    const refused = await call(read.tokens.access_token);
    expect(refused.status).toBe(200);
    expect(await refused.text()).toContain('&lt;error&gt;ScopeInsufficient&lt;/error&gt;');
    await oidc.tokenRevocation(config, full.tokens.refresh_token!);
    await gw.gateway.follower.poll();
    const revoked = await call(full.tokens.access_token);
    expect(await revoked.text()).toContain('&lt;error&gt;AccessTokenInvalid&lt;/error&gt;');
  });
});

describe('expired codes and refresh tokens', () => {
  it('are deleted once expired for longer than the cutoff, and nothing younger', async () => {
    const DAY = 86_400_000;
    const client = await registerClient();
    const store = oauth();
    const consentTo = () => store.authorize(TEST_ACTOR, { userId: alice.userId, organizationId: alice.organizationId, clientId: client.id, scope: 'api', redirectUri: REDIRECT, codeChallenge: null });
    const { code: old } = await consentTo();
    const { code: fresh, grantId } = await consentTo();
    await ts.store.db.updateTable('oauth_codes').set({ expires_at: new Date(Date.now() - 2 * DAY).toISOString() }).where('code_hash', '=', hashToken(old)).execute();
    const oldRefresh = await store.issueRefreshToken(grantId, 'api', -2 * DAY);
    const freshRefresh = await store.issueRefreshToken(grantId, 'api', DAY);
    secrets.push(old, fresh, oldRefresh, freshRefresh);

    const purged = await store.purgeExpired(new Date(Date.now() - DAY).toISOString());
    expect(purged.codes).toBeGreaterThanOrEqual(1);
    expect(purged.refreshTokens).toBeGreaterThanOrEqual(1);
    expect(await store.findCode(old)).toBeUndefined();
    expect(await store.findCode(fresh)).toBeDefined();
    expect(await store.findRefreshToken(oldRefresh)).toBeUndefined();
    expect(await store.findRefreshToken(freshRefresh)).toBeDefined();
    expect(await store.findGrant(grantId)).toBeDefined();
  });
});
describe('secrets', () => {
  it('never appear in a log line', () => {
    expect(secrets.length).toBeGreaterThan(10);
    const log = gw.logs.join('\n');
    for (const s of secrets) expect(log.includes(s), 'a secret in the log').toBe(false);
  });
});
