// The OAuth authorization server, tried as an attacker (and as a plain client library) would
// (issue 19, items 10 and 12), over real HTTP with openid-client as the client:
//   10. a failed code exchange (wrong code_verifier or redirect_uri) neither spends the code nor
//       revokes anything: whoever intercepts a code cannot spoil it for the client; a replay revokes
//       the grant only when the replaying request is itself valid (OAuth 2.1 draft, oidc-provider);
//   12. a refresh refused for its scope spends nothing; a narrowed scope holds for that one access
//       token only (the new refresh token keeps the original scope, RFC 6749 §6); `api` includes `api:read`.
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import * as oidc from 'openid-client';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { OAuthStore } from '../../src/store/oauth-store.js';
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
