// The settings JSON API end to end, over real HTTP on the dialect this project runs: sessions,
// CSRF, ownership (404 for another user's token), validation, the secret shown once, audit and
// invalidation through the gateway, and every response checked against the OpenAPI document.
import jwt from 'jsonwebtoken';
import { sql } from 'kysely';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { sessionStoreFor } from '../../src/settings/index.js';
import { seedUser, TEST_ACTOR } from '../helpers/fixtures.js';
import { call, givePassword, openApi, PASSWORD, recordResponse, seenResponses, sessionCookieOf, signIn } from '../helpers/settings-client.js';
import { startTestGateway } from '../helpers/test-gateway.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users: { alice, bob }, sessions: { alice: aliceApi, bob: bobApi } } = useGateway({
  users: { alice: { org: 'acme', signIn: true }, bob: { org: 'acme', signIn: true } },
});

const envelope = (token: string) => request(gw.url).get('/Api/v6/envelope/1').set('apiToken', token);

describe('signing in', () => {
  it('sets an HttpOnly, SameSite=Strict, Secure session cookie scoped to /settings', async () => {
    const res = await call(gw.url, { method: 'POST', template: '/session', body: { login: alice.login.toUpperCase(), password: PASSWORD } });
    expect(res.status).toBe(200);
    const cookie = ([] as string[]).concat(res.headers['set-cookie']!).find((c) => c.startsWith('gatehouse_session='))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; Path=\/settings/);
    expect(res.body.user.loginName).toBe(alice.login);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['a wrong password', () => ({ login: alice.login, password: 'not the password' })],
    ['an unknown login', () => ({ login: 'nobody@example.test', password: PASSWORD })],
  ])('refuses %s with the same answer', async (_what, body) => {
    const res = await call(gw.url, { method: 'POST', template: '/session', body: body() });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ ErrorId: 'SignInFailed', Message: 'Wrong login name or password.' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('are braked: after 10 failures for one login from one address → 429 with Retry-After, other logins unaffected', async () => {
    const grace = await seedUser(ts.store, { org: alice.org });
    await givePassword(ts.store, grace.userId);
    for (let i = 0; i < 10; i++) {
      expect((await call(gw.url, { method: 'POST', template: '/session', body: { login: grace.login, password: `guess ${i} guess` } })).status).toBe(401);
    }
    const braked = await call(gw.url, { method: 'POST', template: '/session', body: { login: grace.login, password: PASSWORD } });
    expect(braked.status).toBe(429);
    expect(braked.body.ErrorId).toBe('TooManyAttempts');
    // What is left of the 15-minute window that began with the first failure, a moment ago
    expect(Number(braked.headers['retry-after'])).toBeGreaterThan(890);
    expect(Number(braked.headers['retry-after'])).toBeLessThanOrEqual(900);
    await signIn(gw.url, bob.login);
  });

  it('refuses a disabled user', async () => {
    const carol = await seedUser(ts.store, { org: alice.org });
    await givePassword(ts.store, carol.userId);
    await ts.store.admin.setUserEnabled(TEST_ACTOR, carol.login, false);
    const res = await call(gw.url, { method: 'POST', template: '/session', body: { login: carol.login, password: PASSWORD } });
    expect(res.status).toBe(401);
  });

  it('refuses a body that is not JSON, or has unknown fields', async () => {
    const form = await request(gw.url).post('/settings/api/session').type('form').send({ login: alice.login, password: PASSWORD });
    recordResponse(form);
    expect(form.status).toBe(415);
    const extra = await call(gw.url, { method: 'POST', template: '/session', body: { login: alice.login, password: PASSWORD, admin: true } });
    expect(extra.status).toBe(400);
    expect(extra.body.Message).toBe('unknown field(s): admin');
  });
});

describe('sessions', () => {
  it('are required: no cookie → 401', async () => {
    const res = await call(gw.url, { method: 'GET', template: '/tokens' });
    expect(res.status).toBe(401);
    expect(res.body.ErrorId).toBe('SessionRequired');
  });

  it('expire: an expired session → 401 SessionExpired, and it is gone afterwards', async () => {
    const dave = await seedUser(ts.store, { org: alice.org });
    await givePassword(ts.store, dave.userId);
    const s = await signIn(gw.url, dave.login);
    await sql`update settings_sessions set expires_at = ${new Date(Date.now() - 1000).toISOString()} where user_id = ${dave.userId}`.execute(ts.store.db);
    const res = await s.call({ method: 'GET', template: '/me' });
    expect(res.status).toBe(401);
    expect(res.body.ErrorId).toBe('SessionExpired');
    expect(String(res.headers['set-cookie'])).toMatch(/gatehouse_session=;/);
    expect((await s.call({ method: 'GET', template: '/me' })).body.ErrorId).toBe('SessionRequired');
  });

  it('end on sign-out', async () => {
    const s = await signIn(gw.url, bob.login);
    expect((await s.call({ method: 'DELETE', template: '/session' })).status).toBe(204);
    expect((await s.call({ method: 'GET', template: '/me' })).status).toBe(401);
  });
});

describe('CSRF', () => {
  it('a mutating request without the token → 403, and nothing is created', async () => {
    const res = await aliceApi.call({ method: 'POST', template: '/tokens', body: { name: 'No CSRF' }, csrf: null });
    expect(res.status).toBe(403);
    expect(res.body.ErrorId).toBe('CsrfTokenMissing');
    const list = await aliceApi.call({ method: 'GET', template: '/tokens' });
    expect(list.body.map((t: { name: string }) => t.name)).not.toContain('No CSRF');
  });

  it("another session's token → 403", async () => {
    const res = await aliceApi.call({ method: 'POST', template: '/tokens', body: { name: 'Wrong CSRF' }, csrf: bobApi.csrf });
    expect(res.status).toBe(403);
    expect(res.body.ErrorId).toBe('CsrfTokenInvalid');
  });
});

describe('a token made on the page', () => {
  it('shows its secret once, starts disabled, and every change reaches the gateway on the next poll', async () => {
    const created = await aliceApi.call({ method: 'POST', template: '/tokens', body: { name: '  CRM sync  ' } });
    expect(created.status).toBe(201);
    const { token, secret } = created.body as { token: { id: string; name: string; hint: string; enabled: boolean }; secret: string };
    expect(token).toMatchObject({ name: 'CRM sync', enabled: false, hint: `gtu_…${secret.slice(-4)}` });

    await gw.gateway.follower.poll();
    expect((await envelope(secret)).body.ErrorId).toBe('CredentialDisabled');

    const enabled = await aliceApi.call({ method: 'PATCH', template: '/tokens/{id}', path: `/tokens/${token.id}`, body: { enabled: true } });
    expect(enabled.body.enabled).toBe(true);
    await gw.gateway.follower.poll();
    expect((await envelope(secret)).status).toBe(200);

    const renamed = await aliceApi.call({ method: 'PATCH', template: '/tokens/{id}', path: `/tokens/${token.id}`, body: { name: 'CRM sync (prod)' } });
    expect(renamed.body).toMatchObject({ name: 'CRM sync (prod)', enabled: true });

    const list = await aliceApi.call({ method: 'GET', template: '/tokens' });
    expect(list.body.find((t: { id: string }) => t.id === token.id)).toMatchObject({ name: 'CRM sync (prod)', enabled: true });

    expect((await aliceApi.call({ method: 'DELETE', template: '/tokens/{id}', path: `/tokens/${token.id}` })).status).toBe(204);
    await gw.gateway.follower.poll();
    expect((await envelope(secret)).body.ErrorId).toBe('CredentialUnknown');

    const audit = await ts.store.db.selectFrom('audit_events').select(['action', 'actor']).where('target_id', '=', token.id).orderBy('id').execute();
    expect(audit).toEqual(
      ['token.create', 'token.enable', 'token.rename', 'token.delete'].map((action) => ({ action, actor: `user:${alice.userId}` })),
    );

    // The secret appeared in exactly one response of the settings API, and in no log line.
    expect(seenResponses.filter((text) => text.includes(secret))).toHaveLength(1);
    expect(gw.logs.join('\n')).not.toContain(secret);
  });

  it('may carry an expiry in the future, not in the past', async () => {
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const ok = await aliceApi.call({ method: 'POST', template: '/tokens', body: { name: 'Expiring', expiresAt: future } });
    expect(ok.status).toBe(201);
    expect(ok.body.token.expiresAt).toBe(future);
    const past = await aliceApi.call({ method: 'POST', template: '/tokens', body: { name: 'Expired', expiresAt: '2001-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
    expect(past.body.Message).toBe('expiresAt: expiresAt must be in the future');
  });
});

describe('names', () => {
  it.each([
    ['empty', { name: '' }, 400],
    ['blank', { name: '   ' }, 400],
    ['101 characters', { name: 'x'.repeat(101) }, 400],
    ['not a string', { name: 42 }, 400],
    ['missing', {}, 400],
  ])('%s → %i', async (_what, body, status) => {
    const res = await aliceApi.call({ method: 'POST', template: '/tokens', body });
    expect(res.status).toBe(status);
    expect(res.body.ErrorId).toBe('InvalidRequest');
  });

  it('100 characters are fine; a duplicate per user → 409, another user may use it', async () => {
    const name = 'n'.repeat(100);
    expect((await aliceApi.call({ method: 'POST', template: '/tokens', body: { name } })).status).toBe(201);
    const dup = await aliceApi.call({ method: 'POST', template: '/tokens', body: { name } });
    expect(dup.status).toBe(409);
    expect(dup.body.ErrorId).toBe('Conflict');
    expect((await bobApi.call({ method: 'POST', template: '/tokens', body: { name } })).status).toBe(201);
  });

  it('renaming onto another token of the same user → 409', async () => {
    const a = await aliceApi.call({ method: 'POST', template: '/tokens', body: { name: 'Rename A' } });
    await aliceApi.call({ method: 'POST', template: '/tokens', body: { name: 'Rename B' } });
    const res = await aliceApi.call({ method: 'PATCH', template: '/tokens/{id}', path: `/tokens/${a.body.token.id}`, body: { name: 'Rename B' } });
    expect(res.status).toBe(409);
  });

  it('bad JSON → 400, an empty patch → 400', async () => {
    const bad = await request(gw.url).post('/settings/api/tokens').set('Cookie', aliceApi.cookie).set('X-CSRF-Token', aliceApi.csrf).type('json').send('{"name":');
    recordResponse(bad);
    expect(bad.status).toBe(400);
    expect(bad.body.Message).toBe('The request body is not valid JSON.');
    const empty = await aliceApi.call({ method: 'PATCH', template: '/tokens/{id}', path: `/tokens/${alice.tokenId}`, body: {} });
    expect(empty.status).toBe(400);
  });
});

describe("another user's token", () => {
  it('is invisible and untouchable: 404, exactly like a token that does not exist', async () => {
    const list = await bobApi.call({ method: 'GET', template: '/tokens' });
    expect(list.body.map((t: { id: string }) => t.id)).not.toContain(alice.tokenId);
    const patch = await bobApi.call({ method: 'PATCH', template: '/tokens/{id}', path: `/tokens/${alice.tokenId}`, body: { enabled: false } });
    const del = await bobApi.call({ method: 'DELETE', template: '/tokens/{id}', path: `/tokens/${alice.tokenId}` });
    const missing = await bobApi.call({ method: 'DELETE', template: '/tokens/{id}', path: '/tokens/00000000-0000-0000-0000-000000000000' });
    for (const res of [patch, del, missing]) {
      expect(res.status).toBe(404);
      expect(res.body.ErrorId).toBe('NotFound');
      expect(res.body.Message).toBe(missing.body.Message);
    }
    await gw.gateway.follower.poll();
    expect((await envelope(alice.token)).status).toBe(200);
  });
});

describe('organization API tokens section', () => {
  it('is hidden without the OrganizationApiToken flag, shown with it, disabled with the reason when a role denies API', async () => {
    const hidden = await aliceApi.call({ method: 'GET', template: '/org-tokens' });
    expect(hidden.body).toMatchObject({ section: { visible: false, enabled: false }, tokens: [] });

    await ts.store.admin.setOrganizationFeature(TEST_ACTOR, alice.org, 'OrganizationApiToken', true);
    const shown = await aliceApi.call({ method: 'GET', template: '/org-tokens' });
    expect(shown.body.section).toMatchObject({ visible: true, enabled: true, reason: null });
    expect(shown.body.section.warning).toMatch(/REST API v1 to v5/);

    const erin = await seedUser(ts.store, { org: alice.org, roles: ['Integrators', 'Blocked'] });
    await givePassword(ts.store, erin.userId);
    const erinApi = await signIn(gw.url, erin.login);
    expect((await erinApi.call({ method: 'GET', template: '/me' })).body.apiPermission).toBe('denied');
    const blocked = await erinApi.call({ method: 'GET', template: '/org-tokens' });
    expect(blocked.body.section).toMatchObject({ visible: true, enabled: false, reason: expect.stringContaining('"Blocked" denies the API permission') });
    const create = await erinApi.call({ method: 'POST', template: '/org-tokens' });
    expect(create.status).toBe(403);
    expect(create.body.ErrorId).toBe('SectionDisabled');
    await ts.store.admin.setOrganizationFeature(TEST_ACTOR, alice.org, 'OrganizationApiToken', false);
  });
});

describe('apps and connections', () => {
  it('organization tokens cannot be touched by id yet: 404', async () => {
    expect((await aliceApi.call({ method: 'DELETE', template: '/org-tokens/{id}', path: '/org-tokens/x' })).status).toBe(404);
  });

  it('lists no apps until the OAuth server lands; revoking an unknown grant → 404', async () => {
    expect((await aliceApi.call({ method: 'GET', template: '/apps' })).body).toEqual([]);
    expect((await aliceApi.call({ method: 'DELETE', template: '/apps/{grantId}', path: '/apps/g1' })).status).toBe(404);
  });
});

describe('set-password links', () => {
  it('work once, refuse a weak password without being spent, and sign the user in', async () => {
    const frank = await seedUser(ts.store, { org: alice.org });
    const { token } = await sessionStoreFor(ts.store, gw.config.settings).createPasswordLink(frank.userId);
    const weak = await call(gw.url, { method: 'POST', template: '/password', body: { token, password: 'short' } });
    expect(weak.status).toBe(400);
    const ok = await call(gw.url, { method: 'POST', template: '/password', body: { token, password: 'frank new password' } });
    expect(ok.status).toBe(200);
    expect(ok.body.user.loginName).toBe(frank.login);
    const again = await call(gw.url, { method: 'POST', template: '/password', body: { token, password: 'frank new password' } });
    expect(again.status).toBe(400);
    expect(again.body.ErrorId).toBe('LinkInvalid');
    await signIn(gw.url, frank.login, 'frank new password');
    expect(gw.logs.join('\n')).not.toContain(token);
  });
});

describe('a session handed over by the platform', () => {
  it('starts a Gatehouse session from a valid signed JWT cookie, and ignores a forged one', async () => {
    const secret = 'platform-secret-platform-secret-0123456789';
    const local = await startTestGateway({
      store: ts.store,
      storeUrl: ts.url,
      overrides: { settings: { platformSession: { secret, issuer: 'platform', audience: 'gatehouse-settings' } } },
    });
    try {
      const good = jwt.sign({ sub: bob.login }, secret, { issuer: 'platform', audience: 'gatehouse-settings', expiresIn: 60 });
      const forged = jwt.sign({ sub: bob.login }, 'x'.repeat(40), { issuer: 'platform', audience: 'gatehouse-settings', expiresIn: 60 });
      const res = await call(local.url, { method: 'GET', template: '/me', cookie: `platform_session=${good}` });
      expect(res.status).toBe(200);
      expect(res.body.user.loginName).toBe(bob.login);
      const cookie = sessionCookieOf(res);
      expect((await call(local.url, { method: 'GET', template: '/tokens', cookie })).status).toBe(200);
      expect((await call(local.url, { method: 'GET', template: '/me', cookie: `platform_session=${forged}` })).status).toBe(401);
    } finally {
      await local.close();
    }
  });
});

describe('logs', () => {
  it('carry no password, session cookie or CSRF token', () => {
    const logs = gw.logs.join('\n');
    expect(logs).toContain('settings sign-in');
    for (const secret of [PASSWORD, aliceApi.cookie.split('=')[1]!, aliceApi.csrf, bobApi.cookie.split('=')[1]!, bobApi.csrf]) {
      expect(logs).not.toContain(secret);
    }
  });
});

describe('the OpenAPI document', () => {
  it('is served, and the real responses above matched it', async () => {
    const doc = await request(gw.url).get('/settings/api/openapi.json').expect(200);
    expect(doc.body.openapi).toBe('3.1.0');
    for (const op of ['POST /session 200', 'POST /session 401', 'GET /me 200', 'GET /tokens 200', 'POST /tokens 201', 'POST /tokens 403', 'POST /tokens 409', 'PATCH /tokens/{id} 200', 'PATCH /tokens/{id} 404', 'DELETE /tokens/{id} 204', 'GET /org-tokens 200', 'GET /apps 200', 'POST /password 200']) {
      expect(openApi.checked, op).toContain(op);
    }
  });

  it('the checker itself refuses a response that does not match', () => {
    expect(openApi.problem('GET', '/tokens', 200, [{ id: 1 }], '[{"id":1}]')).toMatch(/must have required property 'name'|must be string/);
    expect(openApi.problem('GET', '/tokens', 418, {}, '{}')).toMatch(/not documented/);
  });

  it('unknown settings API paths → 404 in the same error shape', async () => {
    const res = await request(gw.url).get('/settings/api/nope').set('Cookie', aliceApi.cookie);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ ErrorId: 'NotFound' });
  });
});
