// Restricted tokens in the settings API (issue 20), end to end over real HTTP on the dialect this
// project runs: created with restrictions, listed with them and their words, changed and cleared
// with PUT /tokens/{id}/restrictions — and the gateway refusing by them on its next poll; bad input
// is a 400 in the platform error body with nothing written; another user's token is a 404; Apps and
// Connections says in words what each grant's scope allows. Every response is checked against the
// OpenAPI document.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { OAuthStore } from '../../src/store/oauth-store.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { openApi, recordResponse, type SignedIn } from '../helpers/settings-client.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users: { alice, bob }, sessions: { alice: aliceApi, bob: bobApi } } = useGateway({
  users: { alice: { org: 'acme', signIn: true }, bob: { org: 'acme', signIn: true } },
});

const RESTRICT = '/tokens/{id}/restrictions';

/** PUT /tokens/{id}/restrictions as `s`, checked against the document. */
const restrict = (s: SignedIn, id: string, body: unknown, csrf?: null): Promise<request.Response> =>
  s.call({ method: 'PUT', template: RESTRICT, path: `/tokens/${encodeURIComponent(id)}/restrictions`, body, csrf });

/** A new token of alice's, enabled, with these restrictions: its id and secret. */
async function restrictedToken(name: string, restrictions?: unknown): Promise<{ id: string; secret: string }> {
  const created = await aliceApi.call({ method: 'POST', template: '/tokens', body: restrictions === undefined ? { name } : { name, restrictions } });
  expect(created.status).toBe(201);
  const id = created.body.token.id as string;
  expect((await aliceApi.call({ method: 'PATCH', template: '/tokens/{id}', path: `/tokens/${id}`, body: { enabled: true } })).status).toBe(200);
  return { id, secret: created.body.secret as string };
}

const rest = async (method: 'get' | 'post', path: string, secret: string) => {
  await gw.gateway.follower.poll();
  return method === 'get' ? request(gw.url).get(path).set('apiToken', secret) : request(gw.url).post(path).set('apiToken', secret).send({});
};

const listed = async (id: string) => ((await aliceApi.call({ method: 'GET', template: '/tokens' })).body as { id: string }[]).find((t) => t.id === id) as Record<string, unknown>;

const auditOf = (id: string) => ts.store.db.selectFrom('audit_events').select(['action', 'detail']).where('target_id', '=', id).orderBy('id').execute();

describe('a token created with restrictions', () => {
  it('is stored normalized, listed with its words, and the gateway refuses what it lacks', async () => {
    const created = await aliceApi.call({
      method: 'POST',
      template: '/tokens',
      body: { name: 'Reader', restrictions: { permissions: ['envelope:read', 'template:write', 'template:read'], networks: ['0.0.0.0/0', '::/0'], maxVersion: 6 } },
    });
    expect(created.status).toBe(201);
    const expected = { permissions: ['envelope:read', 'template:write'], networks: ['0.0.0.0/0', '::/0'], maxVersion: 6 };
    expect(created.body.token.restrictions).toEqual(expected);
    expect(created.body.token.restrictionsText).toBe('Read envelopes · Read and write templates · from 0.0.0.0/0, ::/0 · API v6 and earlier');

    const token = await listed(created.body.token.id);
    expect(token).toMatchObject({ restrictions: expected, restrictionsText: created.body.token.restrictionsText });

    await aliceApi.call({ method: 'PATCH', template: '/tokens/{id}', path: `/tokens/${created.body.token.id}`, body: { enabled: true } });
    const secret = created.body.secret as string;
    expect((await rest('get', '/Api/v6/envelope/1', secret)).status).toBe(200);
    expect((await rest('get', '/Api/v6/template/1', secret)).status).toBe(200);
    const refused = await rest('get', '/Api/v6/draft/1', secret);
    expect(refused.status).toBe(403);
    expect(refused.body.ErrorId).toBe('TokenRestricted');

    const audit = await auditOf(created.body.token.id);
    expect(audit[0]!.action).toBe('token.create');
    expect(JSON.parse(String(audit[0]!.detail))).toMatchObject({ restrictions: expected });
  });

  it('without restrictions (absent, null or {}) may do everything, and says so', async () => {
    for (const [name, restrictions] of [['Plain', undefined], ['Null', null], ['Empty', {}]] as const) {
      const res = await aliceApi.call({ method: 'POST', template: '/tokens', body: restrictions === undefined ? { name } : { name, restrictions } });
      expect(res.status, name).toBe(201);
      expect(res.body.token).toMatchObject({ restrictions: null, restrictionsText: 'Everything its user may do' });
    }
  });

  it('an empty permission list grants nothing: every mapped call is refused', async () => {
    const { id, secret } = await restrictedToken('Nothing', { permissions: [] });
    expect(await listed(id)).toMatchObject({ restrictions: { permissions: [] }, restrictionsText: 'Nothing' });
    expect((await rest('get', '/Api/v6/envelope/1', secret)).body.ErrorId).toBe('TokenRestricted');
  });
});

describe('changing restrictions', () => {
  it('replaces them, is audited, and the gateway follows on its next poll; {} lifts them', async () => {
    const { id, secret } = await restrictedToken('Changing', { permissions: ['envelope:read'] });
    expect((await rest('get', '/Api/v6/template/1', secret)).body.ErrorId).toBe('TokenRestricted');

    const widened = await restrict(aliceApi, id, { permissions: ['envelope:read', 'template:read'], maxVersion: 5 });
    expect(widened.status).toBe(200);
    expect(widened.body).toMatchObject({ id, enabled: true, restrictions: { permissions: ['envelope:read', 'template:read'], maxVersion: 5 }, restrictionsText: 'Read envelopes and templates · API v5 and earlier' });
    expect((await rest('get', '/Api/v5/template/1', secret)).status).toBe(200);
    const tooNew = await rest('get', '/Api/v6/template/1', secret);
    expect(tooNew.status).toBe(403);
    expect(tooNew.body.ErrorId).toBe('TokenRestricted');

    // A search is a POST that only reads; a real write needs write
    expect((await rest('post', '/Api/v5/template/find', secret)).status).not.toBe(403);
    expect((await rest('post', '/Api/v5/template', secret)).body.ErrorId).toBe('TokenRestricted');

    const cleared = await restrict(aliceApi, id, {});
    expect(cleared.body).toMatchObject({ restrictions: null, restrictionsText: 'Everything its user may do' });
    expect((await listed(id)).restrictions).toBeNull();
    expect((await rest('get', '/Api/v6/draft/1', secret)).status).toBe(200);

    const audit = (await auditOf(id)).filter((e) => e.action === 'token.restrict').map((e) => JSON.parse(String(e.detail)));
    expect(audit).toEqual([
      { from: { permissions: ['envelope:read'] }, to: { permissions: ['envelope:read', 'template:read'], maxVersion: 5 } },
      { from: { permissions: ['envelope:read', 'template:read'], maxVersion: 5 }, to: null },
    ]);
  });

  it('by network: a token kept to a network the client is outside of is refused, then allowed again', async () => {
    const { id, secret } = await restrictedToken('Office only');
    expect((await restrict(aliceApi, id, { networks: ['203.0.113.0/24'] })).body.restrictionsText).toBe('Everything its user may do · from 203.0.113.0/24');
    const outside = await rest('get', '/Api/v6/envelope/1', secret);
    expect(outside.status).toBe(403);
    expect(outside.body.ErrorId).toBe('TokenRestricted');
    // Written as people do: a bare address and a v6 network in a long form, canonicalized
    const res = await restrict(aliceApi, id, { networks: ['127.0.0.1', '::1', '2001:DB8:0:0::1/32'] });
    expect(res.body.restrictions.networks).toEqual(['127.0.0.1/32', '::1/128', '2001:db8::/32']);
    expect((await rest('get', '/Api/v6/envelope/1', secret)).status).toBe(200);
  });
});

describe('bad restrictions', () => {
  it.each([
    ['an unknown permission', { permissions: ['envelope:delete'] }, /restrictions\.permissions\.0: unknown permission/],
    ['a permission of the wrong case', { permissions: ['Envelope:read'] }, /unknown permission/],
    ['permissions that are not a list', { permissions: 'envelope:read' }, /restrictions\.permissions/],
    ['a network that is not a CIDR', { networks: ['example.com'] }, /network "example.com" is not an IPv4 or IPv6 address or CIDR/],
    ['a prefix too long', { networks: ['203.0.113.0/33'] }, /the prefix length is at most 32/],
    ['an empty list of networks', { networks: [] }, /restrictions\.networks: give at least one CIDR/],
    ['51 networks', { networks: Array.from({ length: 51 }, (_, i) => `10.0.${i}.0/24`) }, /at most 50 networks/],
    ['version 0', { maxVersion: 0 }, /restrictions\.maxVersion: must be a whole number from 1 to 6/],
    ['version 7', { maxVersion: 7 }, /must be a whole number from 1 to 6/],
    ['version 5.5', { maxVersion: 5.5 }, /must be a whole number from 1 to 6/],
    ['version "5"', { maxVersion: '5' }, /must be a whole number from 1 to 6/],
    ['an unknown field', { scopes: ['api'] }, /unknown field\(s\): scopes/],
  ])('%s → 400 at creation and on change, nothing written', async (_what, restrictions, message) => {
    const before = await aliceApi.call({ method: 'GET', template: '/tokens' });
    const auditBefore = await ts.store.db.selectFrom('audit_events').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();

    const create = await aliceApi.call({ method: 'POST', template: '/tokens', body: { name: 'Bad restrictions', restrictions } });
    expect(create.status).toBe(400);
    expect(create.body).toMatchObject({ ErrorId: 'InvalidRequest', Message: expect.stringMatching(message), SupportId: expect.any(String) });

    const change = await restrict(aliceApi, alice.tokenId, restrictions);
    expect(change.status).toBe(400);
    expect(change.body).toMatchObject({ ErrorId: 'InvalidRequest', Message: expect.stringMatching(message.source.replace('restrictions\\.', '')) });

    expect((await aliceApi.call({ method: 'GET', template: '/tokens' })).body).toEqual(before.body);
    const auditAfter = await ts.store.db.selectFrom('audit_events').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(auditAfter.n)).toBe(Number(auditBefore.n));
  });

  it('a body that is not an object → 400; without the CSRF token → 403', async () => {
    const list = await request(gw.url).put(`/settings/api/tokens/${alice.tokenId}/restrictions`).set('Cookie', aliceApi.cookie).set('X-CSRF-Token', aliceApi.csrf).type('json').send('["envelope:read"]');
    recordResponse(list);
    expect(list.status).toBe(400);
    const noCsrf = await restrict(aliceApi, alice.tokenId, { maxVersion: 5 }, null);
    expect(noCsrf.body.ErrorId).toBe('CsrfTokenMissing');
    expect((await listed(alice.tokenId)).restrictions).toBeNull();
  });
});

describe("another user's token", () => {
  it('cannot be restricted: 404, exactly like a token that does not exist, and nothing changes', async () => {
    const theirs = await restrict(bobApi, alice.tokenId, { permissions: [] });
    const missing = await restrict(bobApi, '00000000-0000-0000-0000-000000000000', { permissions: [] });
    for (const res of [theirs, missing]) {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ ErrorId: 'NotFound', Message: missing.body.Message });
    }
    expect((await listed(alice.tokenId)).restrictions).toBeNull();
    expect((await rest('get', '/Api/v6/envelope/1', alice.token)).status).toBe(200);
    const bobs = (await bobApi.call({ method: 'GET', template: '/tokens' })).body.map((t: { id: string }) => t.id);
    expect(bobs).toContain(bob.tokenId);
    expect(bobs).not.toContain(alice.tokenId);
  });
});

describe('apps and connections', () => {
  it("says in words what each grant's scope allows", async () => {
    const oauth = new OAuthStore(ts.store.db);
    const grant = async (name: string, scope: string) => {
      const { client } = await oauth.registerClient(TEST_ACTOR, { name, redirectUris: ['https://app.example.test/cb'], public: true });
      await oauth.authorize(TEST_ACTOR, { userId: alice.userId, organizationId: alice.organizationId, clientId: client.id, scope, redirectUri: 'https://app.example.test/cb', codeChallenge: null });
    };
    await grant('Full robot', 'api');
    await grant('Read robot', 'api:read');
    await grant('Narrow robot', 'envelope:read template:write');
    const apps = (await aliceApi.call({ method: 'GET', template: '/apps' })).body as { name: string; scopes: string[]; scopeText: string }[];
    const byName = Object.fromEntries(apps.map((a) => [a.name, a]));
    expect(byName['Full robot']).toMatchObject({ scopes: ['api'], scopeText: 'Everything' });
    expect(byName['Read robot']!.scopeText).toBe('Read envelopes, templates, drafts, files, the organization and users and teams');
    expect(byName['Narrow robot']).toMatchObject({ scopes: ['envelope:read', 'template:write'], scopeText: 'Read envelopes · Read and write templates' });
  });
});

describe('the OpenAPI document', () => {
  it('describes the restrictions: the component, the new fields and the endpoint, and the responses above matched it', async () => {
    const doc = (await request(gw.url).get('/settings/api/openapi.json').expect(200)).body;
    expect(doc.components.schemas.Restrictions.properties).toHaveProperty('permissions');
    expect(doc.components.schemas.Restrictions.properties.permissions.items.enum).toContain('template:write');
    expect(doc.components.schemas.Restrictions.properties.maxVersion).toMatchObject({ minimum: 1, maximum: 6 });
    expect(doc.components.schemas.CreateToken.properties).toHaveProperty('restrictions');
    expect(doc.components.schemas.Token.required).toEqual(expect.arrayContaining(['restrictions', 'restrictionsText']));
    expect(doc.components.schemas.AppList.items.required).toContain('scopeText');
    expect(doc.paths[RESTRICT].put.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Restrictions' });
    for (const op of ['POST /tokens 201', 'POST /tokens 400', 'GET /tokens 200', `PUT ${RESTRICT} 200`, `PUT ${RESTRICT} 400`, `PUT ${RESTRICT} 403`, `PUT ${RESTRICT} 404`, 'GET /apps 200']) {
      expect(openApi.checked, op).toContain(op);
    }
  });
});
