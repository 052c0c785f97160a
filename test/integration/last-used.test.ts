// last_used_at / last_used_ip through the gateway: batched per interval, flushed on shutdown.
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { OrgTokenAdmin } from '../../src/store/org-token-admin.js';
import { judgeOrgTokenManagement } from '../../src/policy/org-token.js';
import { seedOrganization, seedUser, TEST_ACTOR } from '../helpers/fixtures.js';
import { startTestGateway } from '../helpers/test-gateway.js';
import { GET_ENVELOPE_HEADERS, getEnvelopeByIdCall } from '../helpers/soap-messages.js';
import { useGateway } from '../helpers/use-gateway.js';

// Each test starts and closes its own gateway: closing is when the last writes are flushed.
const { ts } = useGateway({ gateway: false });

const lastUsedOf = async (login: string, id: string) => (await ts.store.admin.listApiTokens(login)).find((t) => t.id === id)!;

describe('last used', () => {
  it('is written once per interval, and on shutdown', async () => {
    const writes = vi.spyOn(ts.store.gateway, 'recordTokenUse');
    const gw = await startTestGateway({ store: ts.store, storeUrl: ts.url, overrides: { lastUsed: { flushIntervalMs: 1000 } } });
    const u = await seedUser(ts.store);
    const started = Date.now();
    for (let i = 0; i < 20; i++) await request(gw.url).get('/Api/v6/envelope/1').set('apiToken', u.token).expect(200);
    // Not one write per request: at most one batch per interval that has passed (plus the one under way).
    const intervals = Math.floor((Date.now() - started) / 1000) + 1;
    expect(writes.mock.calls.length).toBeLessThanOrEqual(intervals);
    expect(writes.mock.calls.length).toBeLessThan(20);
    await new Promise((r) => setTimeout(r, 1300));
    const first = await lastUsedOf(u.login, u.tokenId);
    expect(first.lastUsedAt).not.toBeNull();
    expect(first.lastUsedIp).toMatch(/127\.0\.0\.1/);
    await gw.close();
    writes.mockRestore();
  });

  it('loses nothing on a clean shutdown, however long the interval', async () => {
    const gw = await startTestGateway({ store: ts.store, storeUrl: ts.url, overrides: { lastUsed: { flushIntervalMs: 3_600_000 } } });
    const u = await seedUser(ts.store);
    await request(gw.url).get('/Api/v6/envelope/1').set('apiToken', u.token).expect(200);
    await gw.close();
    expect((await lastUsedOf(u.login, u.tokenId)).lastUsedAt).not.toBeNull();
  });

  it('is written for organization tokens and for SOAP calls too', async () => {
    const gw = await startTestGateway({ store: ts.store, storeUrl: ts.url, overrides: { lastUsed: { flushIntervalMs: 3_600_000 } } });
    // An organization token (deprecated, REST v1..5), used by a colleague of its creator
    const org = await seedOrganization(ts.store);
    await ts.store.admin.setOrganizationFeature(TEST_ACTOR, org.name, 'OrganizationApiToken', true);
    const admin = await seedUser(ts.store, { org: org.name });
    const orgTokens = new OrgTokenAdmin(ts.store.db, judgeOrgTokenManagement);
    const { token: orgToken, secret } = await orgTokens.create(TEST_ACTOR, admin.login, 'Legacy integration', { enabled: true });
    await request(gw.url).get('/Api/v5/envelope/1').set('organizationKey', secret).set('userLoginName', admin.login).expect(200);
    // A user token inside a SOAP message
    const soapUser = await seedUser(ts.store);
    await request(gw.url).post('/api.asmx').set(GET_ENVELOPE_HEADERS).send(getEnvelopeByIdCall(soapUser.token)).expect(200);
    await gw.close();
    const used = (await orgTokens.list(admin.login)).find((t) => t.id === orgToken.id)!;
    expect(used.lastUsedAt).not.toBeNull();
    expect(used.lastUsedIp).toMatch(/127\.0\.0\.1/);
    expect((await lastUsedOf(soapUser.login, soapUser.tokenId)).lastUsedAt).not.toBeNull();
  });
});
