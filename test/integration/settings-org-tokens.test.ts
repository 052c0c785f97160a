// Organization API tokens managed from the settings API by a user of the organization, and used
// at the gateway: created disabled, enabled, fenced to REST v1–v5, deleted; never visible to
// another organization; refused for a user whose API permission a role denies.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { seedUser } from '../helpers/fixtures.js';
import { givePassword, signIn } from '../helpers/settings-client.js';
import { useGateway } from '../helpers/use-gateway.js';

const orgTokens = ['OrganizationApiToken'];
const { ts, gw, users: { alice, carol }, sessions: { alice: aliceApi, outsider: outsiderApi } } = useGateway({
  users: { alice: { org: 'acme', features: orgTokens, signIn: true }, carol: { org: 'acme' }, outsider: { features: orgTokens, signIn: true } },
});

const asCarol = (secret: string, version = 5) =>
  request(gw.url).get(`/Api/v${version}/envelope/7`).set('organizationKey', secret).set('userLoginName', carol.login);

describe('organization API tokens from the settings API', () => {
  it('create (disabled, secret once) → enable → call as a colleague on v5, refused on v6 → delete', async () => {
    const created = await aliceApi.call({ method: 'POST', template: '/org-tokens', body: { name: 'Legacy ERP' } });
    expect(created.status).toBe(201);
    const { token, secret } = created.body;
    expect(secret).toMatch(/^gto_/);
    expect(token).toMatchObject({ name: 'Legacy ERP', enabled: false, hint: `gto_…${secret.slice(-4)}` });

    const listed = await aliceApi.call({ method: 'GET', template: '/org-tokens' });
    expect(listed.body.tokens.map((t: { id: string }) => t.id)).toEqual([token.id]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    await gw.gateway.follower.poll();
    expect((await asCarol(secret)).body.ErrorId).toBe('CredentialDisabled');

    const enabled = await aliceApi.call({ method: 'PATCH', template: '/org-tokens/{id}', path: `/org-tokens/${token.id}`, body: { enabled: true } });
    expect(enabled.status).toBe(200);
    await gw.gateway.follower.poll();
    const ok = await asCarol(secret).expect(200);
    expect(ok.body.CalledBy).toMatchObject({ LoginName: carol.login, AuthKind: 'org-token' });
    expect(ok.headers.deprecation).toMatch(/^@\d+$/);
    expect((await asCarol(secret, 6).expect(403)).body.ErrorId).toBe('VersionNotAllowed');

    const deleted = await aliceApi.call({ method: 'DELETE', template: '/org-tokens/{id}', path: `/org-tokens/${token.id}` });
    expect(deleted.status).toBe(204);
    await gw.gateway.follower.poll();
    expect((await asCarol(secret).expect(401)).body.ErrorId).toBe('CredentialUnknown');
  });

  it("another organization's user sees none of them and gets 404 for their ids", async () => {
    const { token } = (await aliceApi.call({ method: 'POST', template: '/org-tokens', body: { name: 'Private' } })).body;
    expect((await outsiderApi.call({ method: 'GET', template: '/org-tokens' })).body.tokens).toEqual([]);
    for (const c of [
      { method: 'PATCH' as const, template: '/org-tokens/{id}', path: `/org-tokens/${token.id}`, body: { enabled: true } },
      { method: 'DELETE' as const, template: '/org-tokens/{id}', path: `/org-tokens/${token.id}` },
    ]) {
      const res = await outsiderApi.call(c);
      expect(res.status).toBe(404);
    }
    expect((await aliceApi.call({ method: 'GET', template: '/org-tokens' })).body.tokens.map((t: { name: string }) => t.name)).toContain('Private');
  });

  it('a user whose API permission a role denies can neither list nor create', async () => {
    const erin = await seedUser(ts.store, { org: alice.org, roles: ['Integrators', 'Blocked'] });
    await givePassword(ts.store, erin.userId);
    const erinApi = await signIn(gw.url, erin.login);
    const list = await erinApi.call({ method: 'GET', template: '/org-tokens' });
    expect(list.body).toMatchObject({ section: { visible: true, enabled: false }, tokens: [] });
    const create = await erinApi.call({ method: 'POST', template: '/org-tokens', body: { name: 'Nope' } });
    expect(create.status).toBe(403);
    expect(create.body.ErrorId).toBe('SectionDisabled');
  });

  it('refuses bad bodies with 400', async () => {
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 'ok', extra: 1 }]) {
      expect((await aliceApi.call({ method: 'POST', template: '/org-tokens', body })).status).toBe(400);
    }
  });
});
