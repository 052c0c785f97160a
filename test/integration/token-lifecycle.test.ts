// Token lifecycle end to end (issue 10), real HTTP through the gateway to the sample upstream on the
// dialect this project runs: rolling with overlap, the expiry warning header and the lifetime
// policy, the last distinct client addresses, the audit trail (settings API and CLI). The clock is
// controlled (vi.setSystemTime on Date only, timers stay real), never slept.
import http from 'node:http';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TOKEN_EXPIRES_HEADER } from '../../src/policy/token-expiry.js';
import { seedOrganization, seedUser, TEST_ACTOR } from '../helpers/fixtures.js';
import { runCli } from '../helpers/processes.js';
import { givePassword, seenResponses, signIn } from '../helpers/settings-client.js';
import { useGateway } from '../helpers/use-gateway.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const header = TOKEN_EXPIRES_HEADER.toLowerCase();

const { ts, gw, users: { alice, bob }, sessions: { alice: aliceApi }, secrets } = useGateway({
  overrides: { lastUsed: { flushIntervalMs: 100 } },
  users: { alice: { org: 'acme', signIn: true }, bob: { org: 'acme' } },
});
afterEach(() => {
  vi.useRealTimers();
});

/** Freezes Date (only) at `ms`; timers, sockets and the cache's TTL clock keep running. */
function clockAt(ms: number) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(ms);
}

const call = (token: string, path = '/Api/v6/envelope/7') => request(gw.url).get(path).set('apiToken', token);

describe('rolling a token', () => {
  it('keeps both secrets working until the chosen time, then only the new one', async () => {
    const t0 = Date.now();
    const res = await aliceApi.call({ method: 'POST', template: '/tokens/{id}/roll', path: `/tokens/${alice.tokenId}/roll`, body: { oldExpires: '1h' } });
    expect(res.status).toBe(200);
    const { secret, oldSecretExpiresAt, token } = res.body as { secret: string; oldSecretExpiresAt: string; token: { id: string; name: string; hint: string } };
    secrets.push(secret);
    expect(token).toMatchObject({ id: alice.tokenId, name: 'Integration A', hint: `gtu_…${secret.slice(-4)}` });
    const stops = Date.parse(oldSecretExpiresAt);
    expect(stops - t0).toBeGreaterThanOrEqual(HOUR - 5000);
    expect(stops - t0).toBeLessThanOrEqual(HOUR + 5000);

    // Both work, as the same token record; the old one says when it stops
    const oldRes = await call(alice.token).expect(200);
    const newRes = await call(secret).expect(200);
    expect(oldRes.body.CalledBy.TokenId).toBe(alice.tokenId);
    expect(newRes.body.CalledBy.TokenId).toBe(alice.tokenId);
    expect(oldRes.headers[header]).toBe(new Date(stops).toUTCString());
    expect(newRes.headers[header]).toBeUndefined();

    // One second before: still both (from the cache, as every instance would)
    clockAt(stops - 1000);
    await call(alice.token).expect(200);
    await call(secret).expect(200);

    // One second after: the old secret is refused with a message that says why; the new one works
    clockAt(stops + 1000);
    const refused = await call(alice.token).expect(401);
    expect(refused.body).toMatchObject({ ErrorId: 'CredentialExpired', Message: 'The API token has expired.' });
    await call(secret).expect(200);
    alice.token = secret;
  });

  it('with "now" stops the old secret at once', async () => {
    const before = alice.token;
    await call(before).expect(200);
    const res = await aliceApi.call({ method: 'POST', template: '/tokens/{id}/roll', path: `/tokens/${alice.tokenId}/roll`, body: { oldExpires: 'now' } });
    expect(res.status).toBe(200);
    secrets.push(res.body.secret);
    expect((await call(before).expect(401)).body.ErrorId).toBe('CredentialUnknown');
    await call(res.body.secret).expect(200);
    alice.token = res.body.secret;
  });

  it.each([
    [{ oldExpires: '2h' }, /oldExpires must be one of now, 1h, 24h, 7d/],
    [{}, /oldExpires/],
    [{ oldExpires: '1h', extra: 1 }, /unknown field/],
  ])('refuses the body %j with 400', async (body, message) => {
    const res = await aliceApi.call({ method: 'POST', template: '/tokens/{id}/roll', path: `/tokens/${alice.tokenId}/roll`, body });
    expect(res.status).toBe(400);
    expect(res.body.Message).toMatch(message);
  });

  it("answers 404 for another user's token, and needs the CSRF token", async () => {
    const res = await aliceApi.call({ method: 'POST', template: '/tokens/{id}/roll', path: `/tokens/${bob.tokenId}/roll`, body: { oldExpires: '1h' } });
    expect(res.status).toBe(404);
    const noCsrf = await aliceApi.call({ method: 'POST', template: '/tokens/{id}/roll', path: `/tokens/${alice.tokenId}/roll`, body: { oldExpires: '1h' }, csrf: null });
    expect(noCsrf.status).toBe(403);
    await call(bob.token).expect(200);
  });
});

describe('the expiry warning header', () => {
  it('appears exactly inside the 7-day window, and past expiry the token is refused', async () => {
    const t0 = Date.now();
    const expiresAt = new Date(t0 + 7 * DAY + 60_000).toISOString();
    const { token, secret } = await ts.store.admin.createApiToken(TEST_ACTOR, alice.login, 'expiring', { enabled: true, expiresAt });
    secrets.push(secret);
    const expected = new Date(expiresAt).toUTCString();

    expect((await call(secret).expect(200)).headers[header]).toBeUndefined();
    clockAt(t0 + 59_000); // 7 days and 1 s before: outside
    expect((await call(secret).expect(200)).headers[header]).toBeUndefined();
    clockAt(t0 + 60_000); // exactly 7 days before: inside
    expect((await call(secret).expect(200)).headers[header]).toBe(expected);
    // On every response to such a call, whatever the upstream answers
    expect((await call(secret, '/Api/v6/envelope/missing-route-but-routed/x').expect((r) => expect(r.status).not.toBe(401))).headers[header]).toBe(expected);
    // The settings page data marks it
    const list = await aliceApi.call({ method: 'GET', template: '/tokens' });
    expect(list.body.find((t: { id: string }) => t.id === token.id).expiresSoon).toBe(true);
    expect(list.body.find((t: { id: string }) => t.id === alice.tokenId).expiresSoon).toBe(false);

    clockAt(Date.parse(expiresAt) + 1);
    const refused = await call(secret).expect(401);
    expect(refused.body).toMatchObject({ ErrorId: 'CredentialExpired', Message: 'The API token has expired.' });
    expect(refused.headers[header]).toBeUndefined();
  });
});

describe('the maximum token lifetime', () => {
  it('makes new tokens carry an expiry within it (settings API 400), and none = no rule', async () => {
    const org = await seedOrganization(ts.store);
    const carol = await seedUser(ts.store, { org: org.name });
    secrets.push(carol.token);
    await givePassword(ts.store, carol.userId);
    const api = await signIn(gw.url, carol.login);
    await ts.store.lifecycle.setMaxTokenLifetime(TEST_ACTOR, org.name, 30);

    const create = (body: object) => api.call({ method: 'POST', template: '/tokens', body });
    const none = await create({ name: 'forever' });
    expect(none.status).toBe(400);
    expect(none.body.Message).toMatch(/requires an expiry within 30 days/);
    const tooLong = await create({ name: 'long', expiresAt: new Date(Date.now() + 31 * DAY).toISOString() });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.Message).toMatch(/maximum token lifetime of 30 days/);
    const fine = await create({ name: 'fine', expiresAt: new Date(Date.now() + 29 * DAY).toISOString() });
    expect(fine.status).toBe(201);
    secrets.push(fine.body.secret);
    // Moving an existing token's expiry past the limit is refused the same way
    const patch = await api.call({ method: 'PATCH', template: '/tokens/{id}', path: `/tokens/${fine.body.token.id}`, body: { expiresAt: null } });
    expect(patch.status).toBe(400);

    // Another organization has no rule
    const other = await aliceApi.call({ method: 'POST', template: '/tokens', body: { name: 'no rule' } });
    expect(other.status).toBe(201);
    secrets.push(other.body.secret);

    await ts.store.lifecycle.setMaxTokenLifetime(TEST_ACTOR, org.name, null);
    expect((await create({ name: 'forever' })).status).toBe(201);
  });
});

describe('last used', () => {
  /** A call from a given loopback address (Linux routes all of 127/8 to lo). */
  const callFrom = (localAddress: string, token: string) =>
    new Promise<number>((resolve, reject) => {
      const u = new URL(`${gw.url}/Api/v6/envelope/1`);
      const req = http.get({ host: u.hostname, port: u.port, path: u.pathname, localAddress, headers: { apiToken: token } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
    });

  it('shows the last few distinct addresses, newest first, from the batched usage records', async () => {
    const { token, secret } = await ts.store.admin.createApiToken(TEST_ACTOR, alice.login, 'addresses', { enabled: true });
    secrets.push(secret);
    for (const ip of ['127.0.0.2', '127.0.0.3', '127.0.0.2']) {
      expect(await callFrom(ip, secret)).toBe(200);
    }
    await expect
      .poll(async () => {
        const list = await aliceApi.call({ method: 'GET', template: '/tokens' });
        return list.body.find((t: { id: string }) => t.id === token.id).lastUsedIps.map((u: { ip: string }) => u.ip.replace(/^::ffff:/, '')).sort();
      }, { timeout: 3000, interval: 100 })
      .toEqual(['127.0.0.2', '127.0.0.3']);

    // Only the newest five distinct addresses are kept
    for (const ip of ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7']) expect(await callFrom(ip, secret)).toBe(200);
    await expect
      .poll(async () => {
        const list = await aliceApi.call({ method: 'GET', template: '/tokens' });
        return list.body.find((t: { id: string }) => t.id === token.id).lastUsedIps.length;
      }, { timeout: 3000, interval: 100 })
      .toBe(5);
  });
});

describe('the audit trail', () => {
  it("GET /audit shows the user's own credential events, not another user's", async () => {
    const res = await aliceApi.call({ method: 'GET', template: '/audit' });
    expect(res.status).toBe(200);
    const events = res.body as { action: string; targetId: string; at: string }[];
    const actions = events.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['token.create', 'token.roll']));
    expect(events.some((e) => e.targetId === bob.tokenId)).toBe(false);
    // newest first
    expect([...events].sort((a, b) => b.at.localeCompare(a.at)).map((e) => e.at)).toEqual(events.map((e) => e.at));
  });

  it('gatehouse audit prints JSON lines filtered by user, token and time', async () => {
    const env = { DATABASE_URL: ts.url, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
    const r = await runCli(['audit', '--user', alice.login, '--token', alice.tokenId], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; targetId: string });
    expect(lines.map((l) => l.action)).toEqual(['token.create', 'token.roll', 'token.roll']);
    expect(lines.every((l) => l.targetId === alice.tokenId)).toBe(true);

    const future = await runCli(['audit', '--user', alice.login, '--since', '2999-01-01'], env);
    expect(future.code).toBe(0);
    expect(future.stdout).toBe('');
    const bad = await runCli(['audit', '--since', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since "yesterday" is not an ISO-8601 date/);
    expect((await runCli(['audit', '--org', 'No Such Org'], env)).code).toBe(2);
  });

  it('gatehouse token roll and org set-max-token-lifetime work, and refuse bad input with exit 2', async () => {
    const env = { DATABASE_URL: ts.url, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
    const { token, secret } = await ts.store.admin.createApiToken(TEST_ACTOR, bob.login, 'cli roll', { enabled: true });
    const rolled = await runCli(['token', 'roll', '--id', token.id, '--old-expires', '24h', '--json'], env);
    expect(rolled.code).toBe(0);
    const out = JSON.parse(rolled.stdout) as { secret: string; oldSecretExpiresAt: string };
    secrets.push(secret, out.secret);
    await expect.poll(async () => (await call(out.secret)).status, { timeout: 3000, interval: 50 }).toBe(200);
    expect((await call(secret).expect(200)).headers[header]).toBe(new Date(out.oldSecretExpiresAt).toUTCString());

    const badWhen = await runCli(['token', 'roll', '--id', token.id, '--old-expires', '2d'], env);
    expect(badWhen.code).toBe(2);
    expect(badWhen.stderr).toMatch(/--old-expires must be one of now, 1h, 24h, 7d/);
    expect((await runCli(['token', 'roll', '--id', 'missing', '--old-expires', 'now'], env)).code).toBe(2);

    const org = await seedOrganization(ts.store);
    expect((await runCli(['org', 'set-max-token-lifetime', '--org', org.name, '--days', 'ten'], env)).code).toBe(2);
    expect((await runCli(['org', 'set-max-token-lifetime', '--org', org.name, '--days', '7'], env)).code).toBe(0);
    await ts.store.admin.createUser(TEST_ACTOR, org.name, `dave-${Date.now()}@example.test`, ['Integrators']);
    const dave = (await ts.store.db.selectFrom('users').select('login_name').where('organization_id', '=', org.id).executeTakeFirstOrThrow()).login_name;
    const create = await runCli(['token', 'create', '--user', dave, '--name', 'x'], env);
    expect(create.code).toBe(2);
    expect(create.stderr).toMatch(/requires an expiry within 7 days/);
    expect((await runCli(['token', 'create', '--user', dave, '--name', 'x', '--expires', new Date(Date.now() + 6 * DAY).toISOString()], env)).code).toBe(0);
    expect((await runCli(['org', 'set-max-token-lifetime', '--org', org.name, '--days', 'none'], env)).code).toBe(0);
  });
});

describe('secrets', () => {
  it('never appear in logs, and a secret appears only in the response that minted it', () => {
    const logs = gw.logs.join('\n');
    expect(logs).toContain('settings token rolled');
    for (const s of secrets) expect(logs).not.toContain(s);
    for (const s of secrets.slice(2)) {
      expect(seenResponses.filter((body) => body.includes(s)).length).toBeLessThanOrEqual(1);
    }
  });
});
