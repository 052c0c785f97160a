// The OAuth authorization server, tried as an attacker (and as a plain client library) would
// (issue 19, item 10), over real HTTP with openid-client as the client:
//   10. a failed code exchange (wrong code_verifier or redirect_uri) neither spends the code nor
//       revokes anything: whoever intercepts a code cannot spoil it for the client; a replay revokes
//       the grant only when the replaying request is itself valid (OAuth 2.1 draft, oidc-provider);
import { randomUUID } from 'node:crypto';
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
