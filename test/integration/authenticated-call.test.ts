// One authenticated-call step for every surface and credential kind (pipeline/authenticate-call.ts).
// The sequence used to be written three times (REST user/OAuth tokens, REST organization tokens,
// SOAP) and each copy had lost a step; these are the steps that were lost, asserted on the
// surfaces that lost them: the per-token request rate for organization tokens on REST, "last used
// from" as the client address behind a trusted proxy (REST and SOAP), and the organization on
// SOAP access lines.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { orgTokenRequests } from '../../src/observability/metrics.js';
import { seedOrgTokenOrg, type OrgTokenOrg } from '../helpers/org-token-rule.js';
import { GET_ENVELOPE_HEADERS, getEnvelopeByIdCall } from '../helpers/soap-messages.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users, secrets, startGateway } = useGateway({ users: { alice: {}, bob: {}, carol: {}, dave: {} }, noSecretsInLogs: true });

/** An organization whose flag is on, with an enabled organization token acting for `logins.enabled`. */
async function orgTokenOrg(): Promise<OrgTokenOrg> {
  const org = await seedOrgTokenOrg(ts.store, true, { login: users.dave.login, id: users.dave.userId }, 'ac');
  secrets.push(org.token);
  return org;
}

/** Who a token says it was last used from, once the batched write has landed. */
async function lastUsedIpOf(table: 'api_tokens' | 'org_api_tokens', id: string): Promise<string | null> {
  const row = await ts.store.db.selectFrom(table).select('last_used_ip').where('id', '=', id).executeTakeFirst();
  return row?.last_used_ip ?? null;
}

describe('the per-token request rate', () => {
  it('holds organization tokens on REST too, their answers still marked deprecated', async () => {
    const limited = await startGateway({ overrides: { abuse: { failuresPerIp: 0, failuresPerToken: 0, windowSeconds: 60, tokenRequestsPerSecond: 3 }, observability: { organizationLabels: true } } });
    const org = await orgTokenOrg();
    const call = () => request(limited.url).get('/Api/v5/envelope/1').set('organizationKey', org.token).set('userLoginName', org.logins.enabled);
    const count = async (outcome: string) => (await orgTokenRequests.get()).values.find((v) => v.labels.organization_id === org.id && v.labels.outcome === outcome)?.value ?? 0;

    const statuses = await Promise.all(Array.from({ length: 8 }, () => call().then((r) => r.status)));
    expect(statuses.filter((s) => s === 200).length).toBe(3);
    const refused = await call();
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ ErrorId: 'RateLimited', SupportId: refused.headers['x-request-id'] });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers.deprecation).toMatch(/^@\d+$/);
    expect(refused.headers.sunset).toBeTruthy();
    expect(await count('forwarded')).toBe(3);
    expect(await count('RateLimited')).toBe(6);
  });
});

describe('"last used from" behind a trusted proxy', () => {
  const XFF = 'X-Forwarded-For';

  it('is the forwarded client address, on REST (user and organization tokens) and on SOAP', async () => {
    const behindProxy = await startGateway({ overrides: { http: { ...gw.config.http, trustedProxies: ['127.0.0.1/8', '::1/128'] }, lastUsed: { flushIntervalMs: 100 } } });
    const org = await orgTokenOrg();
    await request(behindProxy.url).get('/Api/v6/envelope/1').set('apiToken', users.alice.token).set(XFF, '198.51.100.1, 203.0.113.7').expect(200);
    await request(behindProxy.url).post('/api.asmx').set(GET_ENVELOPE_HEADERS).set(XFF, '203.0.113.8').send(getEnvelopeByIdCall(users.bob.token)).expect(200);
    await request(behindProxy.url).get('/Api/v5/envelope/1').set('organizationKey', org.token).set('userLoginName', org.logins.enabled).set(XFF, '203.0.113.9').expect(200);

    await expect.poll(() => lastUsedIpOf('api_tokens', users.alice.tokenId), { timeout: 5000, interval: 50 }).toBe('203.0.113.7');
    await expect.poll(() => lastUsedIpOf('api_tokens', users.bob.tokenId), { timeout: 5000, interval: 50 }).toBe('203.0.113.8');
    await expect.poll(() => lastUsedIpOf('org_api_tokens', org.tokenId), { timeout: 5000, interval: 50 }).toBe('203.0.113.9');
  });

  it('is the peer address when the peer is no trusted proxy, whatever X-Forwarded-For claims', async () => {
    const direct = await startGateway({ overrides: { lastUsed: { flushIntervalMs: 100 } } });
    await request(direct.url).post('/api.asmx').set(GET_ENVELOPE_HEADERS).set(XFF, '203.0.113.66').send(getEnvelopeByIdCall(users.carol.token)).expect(200);
    await expect.poll(() => lastUsedIpOf('api_tokens', users.carol.tokenId), { timeout: 5000, interval: 50 }).toMatch(/127\.0\.0\.1/);
  });
});

describe('SOAP access lines', () => {
  it('carry the organization, as REST ones do', async () => {
    const requestId = `soap-org-${users.alice.tokenId.slice(0, 8)}`;
    await request(gw.url).post('/api.asmx').set(GET_ENVELOPE_HEADERS).set('X-Request-Id', requestId).send(getEnvelopeByIdCall(users.alice.token)).expect(200);
    await expect
      .poll(() => gw.logs.map((l) => JSON.parse(l)).find((l) => l.message === 'access' && l.requestId === requestId), { timeout: 2000, interval: 20 })
      .toMatchObject({ surface: 'soap', status: 200, authKind: 'api-token', tokenId: users.alice.tokenId, userId: users.alice.userId, organizationId: users.alice.organizationId });
  });
});
