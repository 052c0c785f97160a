// Leaked-token reports end to end (issue 10): two gateway instances sharing the real Redis and the
// store (each with its own store connection, as two processes would), both with the token cached;
// a signed report to one revokes it on both on the very next request, with the distinct message.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/tokens/token-format.js';
import { signReport } from '../../src/security/leaked-tokens.js';
import { OrgTokenAdmin } from '../../src/store/org-token-admin.js';
import { judgeOrgTokenManagement } from '../../src/policy/org-token.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-server.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { TEST_DB, type TestStore } from '../helpers/test-store.js';
import { useGateway } from '../helpers/use-gateway.js';

const KEY = randomBytes(32).toString('hex');
const prefix = uniquePrefix(`leaked-${TEST_DB}`);
const overrides = (ts: TestStore) => ({
  redis: { url: SHARED_REDIS_URL, keyPrefix: prefix },
  // The change feed is polled rarely: what is shown is the Redis eviction channel.
  store: { url: ts.url, changeFeedPollMs: 60_000 },
  security: { leakedTokens: { signingSecret: KEY, maxTokensPerReport: 10 } },
});

// Instance a on the test's store connection, b (below) on one of its own, as two processes.
const { ts, gw: a, users: { alice }, startGateway } = useGateway({
  overrides,
  users: { alice: { features: ['OrganizationApiToken'] } },
  redisPrefix: prefix,
});
let b: TestGateway;
let orgToken: string;

beforeAll(async () => {
  b = await startGateway({ overrides: overrides(ts), ownConnection: true });
  orgToken = (await new OrgTokenAdmin(ts.store.db, judgeOrgTokenManagement).create(TEST_ACTOR, alice.login, 'legacy org token', { enabled: true })).secret;
}, 30_000);

const report = (gw: TestGateway, body: string, signature: string | null = signReport(body, KEY)) => {
  let req = request(gw.url).post('/security/leaked-tokens').set('Content-Type', 'application/json');
  if (signature !== null) req = req.set('X-Gatehouse-Signature', signature);
  return req.send(body);
};
const userCall = (gw: TestGateway, token: string) => request(gw.url).get('/Api/v6/envelope/1').set('apiToken', token);
const orgCall = (gw: TestGateway) => request(gw.url).get('/Api/v5/envelope/1').set('organizationKey', orgToken).set('userLoginName', alice.login);

describe('POST /security/leaked-tokens', () => {
  it('refuses an unsigned or wrongly signed report, and a malformed one, revoking nothing', async () => {
    const body = JSON.stringify([{ token: alice.token, type: 'gatehouse_user_token', url: 'https://example.test/leak' }]);
    expect((await report(a, body, null)).status).toBe(401);
    const wrong = await report(a, body, signReport(body, 'another key of at least 32 characters'));
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ ErrorId: 'SignatureInvalid' });
    expect((await report(a, body, signReport(body + ' ', KEY))).status).toBe(401);
    for (const bad of ['{not json', '[]', JSON.stringify({ token: alice.token }), JSON.stringify([{ token: 1 }]), JSON.stringify(Array.from({ length: 11 }, () => ({ token: 'x' })))]) {
      const res = await report(a, bad);
      expect(res.status, bad.slice(0, 30)).toBe(400);
      expect(res.body.ErrorId).toBe('InvalidRequest');
    }
    await userCall(a, alice.token).expect(200);
  });

  it('revokes live tokens on every instance on the next request, and says only whether each was live', async () => {
    // Both instances have the tokens cached
    for (const gw of [a, b]) {
      await userCall(gw, alice.token).expect(200);
      await orgCall(gw).expect(200);
    }
    const unknown = mintToken('user');
    const findings = [
      { token: alice.token, type: 'gatehouse_user_token', url: 'https://example.test/repo/blob/main/.env' },
      { token: orgToken, type: 'gatehouse_org_token', url: 'https://example.test/gist/1' },
      { token: unknown, type: 'gatehouse_user_token' },
      { token: 'gtu_not-even-a-token', type: 'gatehouse_user_token' },
    ];
    const body = JSON.stringify(findings);
    const res = await report(a, body).expect(200);
    expect(res.body).toEqual([
      { tokenHint: `gtu_…${alice.token.slice(-4)}`, type: 'gatehouse_user_token', live: true, outcome: 'revoked' },
      { tokenHint: `gto_…${orgToken.slice(-4)}`, type: 'gatehouse_org_token', live: true, outcome: 'revoked' },
      { tokenHint: `gtu_…${unknown.slice(-4)}`, type: 'gatehouse_user_token', live: false, outcome: 'unknown' },
      { tokenHint: '', type: 'gatehouse_user_token', live: false, outcome: 'malformed' },
    ]);
    // Never whose: no user, login, organization or token id in the answer, and no secret echoed
    for (const s of [alice.login, alice.userId, alice.tokenId, alice.organizationId, alice.token, orgToken]) expect(res.text).not.toContain(s);

    // The very next request on the other instance is refused, with the distinct message
    const onB = await userCall(b, alice.token).expect(401);
    expect(onB.body).toMatchObject({ ErrorId: 'CredentialRevoked', Message: 'token revoked: found in public code' });
    expect((await orgCall(b).expect(401)).body.ErrorId).toBe('CredentialRevoked');
    expect((await userCall(a, alice.token).expect(401)).body.ErrorId).toBe('CredentialRevoked');

    // Reported again: no longer live
    const again = await report(b, JSON.stringify([findings[0]])).expect(200);
    expect(again.body[0]).toMatchObject({ live: false, outcome: 'already-revoked' });
  });

  it('keeps the record (the page shows it revoked), audits the revocation without the secret, and never logs a token', async () => {
    const [view] = await ts.store.admin.listApiTokens(alice.login);
    expect(view!.id).toBe(alice.tokenId);
    expect((await ts.store.lifecycle.revokedOf([alice.tokenId])).has(alice.tokenId)).toBe(true);
    const events = await ts.store.lifecycle.auditEvents({ tokenId: alice.tokenId });
    const revoke = events.find((e) => e.action === 'token.revoke')!;
    expect(revoke).toMatchObject({ actor: 'system:leaked-tokens', detail: { reason: 'leaked', url: 'https://example.test/repo/blob/main/.env' } });
    expect(JSON.stringify(events)).not.toContain(alice.token);
    // A revoked token cannot be rolled back to life
    await expect(ts.store.lifecycle.rollApiToken(TEST_ACTOR, alice.tokenId, '1h')).rejects.toThrow(/revoked/);
    const logs = [...a.logs, ...b.logs].join('\n');
    expect(logs).toContain('leaked-token report');
    for (const s of [alice.token, orgToken, KEY]) expect(logs).not.toContain(s);
  });

  it('is off (404) when no signing key is configured', async () => {
    const off = await startTestGateway({ store: ts.store, storeUrl: ts.url });
    try {
      const body = JSON.stringify([{ token: alice.token }]);
      expect((await report(off, body)).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
