// OAuth scopes in the permission vocabulary (issue 20), end to end: an application asks for
// `envelope:read` or `template:write` besides `api` and `api:read`; the consent page says what that
// means in words; the access token's scope is judged against what each REST route and SOAP
// operation needs (403 ScopeInsufficient naming the missing permission; on SOAP the platform's
// failure form); the upstream is told the token's permissions (`perms`); a refresh may narrow the
// scope, never widen it; an unknown scope is invalid_scope; the metadata lists every scope.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { OAUTH_SCOPES, FAMILY_WORDS } from '../../src/permissions/vocabulary.js';
import { verifyIdentity } from '../../src/proxy/identity.js';
import { SOAP11_NS, TNS } from '../../src/soap/protocol.js';
import { OAuthStore } from '../../src/store/oauth-store.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { consent } from '../helpers/oauth-flow.js';
import { signIn } from '../helpers/settings-client.js';
import { GET_ENVELOPE_HEADERS, getEnvelopeByIdCall } from '../helpers/soap-messages.js';
import { useGateway } from '../helpers/use-gateway.js';

const REDIRECT = 'http://127.0.0.1:9/callback';
const { ts, gw, upstream, users: { alice } } = useGateway({ upstream: 'recording', users: { alice: { password: true } }, noSecretsInLogs: true });

interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
  clientId: string;
}

async function registerClient(): Promise<string> {
  const { client } = await new OAuthStore(ts.store.db).registerClient(TEST_ACTOR, { name: `App ${randomUUID().slice(0, 8)}`, description: 'Reads your envelopes', redirectUris: [REDIRECT], public: true });
  return client.id;
}

/** The authorization URL of a public client asking for `scope`, with its PKCE verifier. */
function authorizationUrl(clientId: string, scope: string) {
  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope, state: 'st', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' });
  return { url: `${gw.url}/oauth/authorize?${q}`, verifier };
}

/** Alice allows a fresh app `scope`; the app exchanges the code. */
async function tokensFor(scope: string): Promise<Tokens> {
  const clientId = await registerClient();
  const { url, verifier } = authorizationUrl(clientId, scope);
  const callback = await consent(gw.url, url, alice.login);
  const res = await request(gw.url).post('/oauth/token').type('form').send({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier });
  expect(res.status).toBe(200);
  return { ...res.body, clientId };
}

const rest = (method: 'get' | 'post', path: string, token: string) => request(gw.url)[method](path).set('Authorization', `Bearer ${token}`).send(method === 'post' ? { a: 1 } : undefined);

/** A refusal for want of `needed`: 403 ScopeInsufficient, and the RFC 6750 challenge naming the permission. */
function expectInsufficient(res: request.Response, needed: string) {
  expect(res.status).toBe(403);
  expect(res.body.ErrorId).toBe('ScopeInsufficient');
  expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
  expect(res.headers['www-authenticate']).toContain(`scope="${needed}"`);
}

const soap = (operation: string, body: string) => fetch(`${gw.url}/api.asmx`, { method: 'POST', headers: { ...GET_ENVELOPE_HEADERS, SOAPAction: `"${TNS}${operation}"` }, body });
const sendEnvelopeCall = (token: string) =>
  `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Header><AuthorizationHeader xmlns="${TNS}"><apiToken>${token}</apiToken></AuthorizationHeader></soap:Header><soap:Body><SendEnvelope_v1 xmlns="${TNS}"><authorizationXml></authorizationXml></SendEnvelope_v1></soap:Body></soap:Envelope>`;

describe('envelope:read', () => {
  it('reads envelopes over REST (GET, POST find); sending and templates are 403 naming the permission needed', async () => {
    const tokens = await tokensFor('envelope:read');
    expect(tokens.scope).toBe('envelope:read');
    await gw.gateway.follower.poll();
    expect((await rest('get', '/Api/v6/envelope/1', tokens.access_token)).status).toBe(200);
    expect((await rest('post', '/Api/v6/envelope/find', tokens.access_token)).status).toBe(200);
    expectInsufficient(await rest('post', '/Api/v6/envelope/send', tokens.access_token), 'envelope:write');
    expectInsufficient(await rest('get', '/Api/v6/template/1', tokens.access_token), 'template:read');
  });

  it("the upstream is told the token's permissions: perms = envelope:read", async () => {
    const tokens = await tokensFor('envelope:read');
    await gw.gateway.follower.poll();
    const before = upstream.received.length;
    expect((await rest('get', '/Api/v6/envelope/1', tokens.access_token)).status).toBe(200);
    const got = upstream.received.slice(before).find((r) => r.url === '/Api/v6/envelope/1')!;
    const claims = verifyIdentity(String(got.headers['x-gatehouse-identity']), { secret: gw.identitySecret, issuer: 'gatehouse', audience: 'gatehouse-upstream' });
    expect(claims).toMatchObject({ sub: alice.userId, kind: 'oauth', perms: 'envelope:read' });
  });

  it("on SOAP passes GetEnvelopeById_v1 and is refused SendEnvelope_v1 in the platform's failure form", async () => {
    const tokens = await tokensFor('envelope:read');
    await gw.gateway.follower.poll();
    const read = await soap('GetEnvelopeById_v1', getEnvelopeByIdCall(tokens.access_token));
    expect(read.status).toBe(200);
    expect(await read.text()).toContain('<ok/>'); // the recording upstream's answer: it was passed on
    const send = await soap('SendEnvelope_v1', sendEnvelopeCall(tokens.access_token));
    expect(send.status).toBe(200);
    const text = await send.text();
    expect(text).toContain('&lt;baseResult&gt;failed&lt;/baseResult&gt;');
    expect(text).toContain('&lt;error&gt;ScopeInsufficient&lt;/error&gt;');
  });
});

describe('template:write', () => {
  it('reads and writes templates, and nothing else', async () => {
    const tokens = await tokensFor('template:write');
    await gw.gateway.follower.poll();
    expect((await rest('get', '/Api/v6/template/1', tokens.access_token)).status).toBe(200);
    expect((await rest('post', '/Api/v6/template', tokens.access_token)).status).toBe(200);
    expectInsufficient(await rest('get', '/Api/v6/envelope/1', tokens.access_token), 'envelope:read');
  });
});

describe('asking for scopes', () => {
  it('the metadata lists every scope of the vocabulary', async () => {
    const meta = (await request(gw.url).get('/.well-known/oauth-authorization-server')).body;
    expect(meta.scopes_supported).toEqual([...OAUTH_SCOPES]);
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['api', 'api:read', 'envelope:read', 'envelope:write', 'template:write', 'user:read']));
  });

  it('an unknown scope (envelope:admin) goes back to the client as invalid_scope', async () => {
    const clientId = await registerClient();
    for (const scope of ['envelope:admin', 'envelope:read envelope:admin']) {
      const res = await fetch(authorizationUrl(clientId, scope).url, { redirect: 'manual' });
      expect(res.status).toBe(303);
      const back = new URL(res.headers.get('location')!);
      expect(back.origin + back.pathname).toBe(REDIRECT);
      expect(back.searchParams.get('error')).toBe('invalid_scope');
      expect(back.searchParams.get('state')).toBe('st');
    }
  });

  it('scopes are kept once each, sorted', async () => {
    const tokens = await tokensFor('template:write envelope:read envelope:read');
    expect(tokens.scope).toBe('envelope:read template:write');
  });

  it('the consent page says what the app asks for in words', async () => {
    const clientId = await registerClient();
    const first = await fetch(authorizationUrl(clientId, 'envelope:read template:write').url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const { cookie } = await signIn(gw.url, alice.login);
    const html = await (await fetch(gw.url + first.headers.get('location')!, { headers: { cookie } })).text();
    expect(html).toContain('Read envelopes · Read and write templates');
    expect(html).toContain(FAMILY_WORDS.envelope.covers);
    expect(html).toContain(FAMILY_WORDS.template.covers);
    expect(html).not.toContain(FAMILY_WORDS.draft.covers);
    expect(html).toMatch(/<strong>Envelopes<\/strong> \(read only\)/);
    expect(html).toMatch(/<strong>Templates<\/strong> \(read and write\)/);
  });

  it('a refresh may narrow the scope (api → envelope:read), never widen it', async () => {
    const tokens = await tokensFor('api');
    const { clientId } = tokens;
    const narrowed = await request(gw.url).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId, scope: 'envelope:read' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('envelope:read');
    await gw.gateway.follower.poll();
    expectInsufficient(await rest('post', '/Api/v6/envelope/send', narrowed.body.access_token), 'envelope:write');
    // The new refresh token keeps the grant's scope (RFC 6749 §6): it can still ask for envelope:write
    const again = await request(gw.url).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token, client_id: clientId, scope: 'envelope:write' });
    expect(again.status).toBe(200);
    expect(again.body.scope).toBe('envelope:write');

    const reader = await tokensFor('envelope:read');
    for (const scope of ['envelope:write', 'api:read', 'envelope:admin']) {
      const wider = await request(gw.url).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: reader.refresh_token, client_id: reader.clientId, scope });
      expect(wider.status, scope).toBe(400);
      expect(wider.body.error, scope).toBe('invalid_scope');
    }
  });
});
