// Every REST resource of every version reaches the upstream (issue 17): the resources the platform
// documents × API versions (v1..v6 and `.0` forms) × credential kinds (user API token in the
// apiToken header and as Bearer, organization token, OAuth access token), through the real gateway
// to the real sample upstream, on the dialect this project runs (SQLite or PostgreSQL). The route
// table only splits upstreams; policy (the organization token's v1–v5 fence, permission, scope)
// is what it was.
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthStore } from '../../src/store/oauth-store.js';
import { OrgTokenAdmin } from '../../src/store/org-token-admin.js';
import { judgeOrgTokenManagement } from '../../src/policy/org-token.js';
import { seedUser, TEST_ACTOR } from '../helpers/fixtures.js';
import { consent } from '../helpers/oauth-flow.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { useGateway } from '../helpers/use-gateway.js';

const REDIRECT = 'http://127.0.0.1:9/callback';
// alice: a user token, an organization token (her organization has the feature) and, with her
// settings password, OAuth access tokens; every secret of hers is in secretsSeen.
const { ts, gw, users: { alice }, secrets: secretsSeen } = useGateway({
  users: { alice: { features: ['OrganizationApiToken'], password: true } },
});
let orgToken: { secret: string; tokenId: string };
let accessToken: string;
let readOnlyAccessToken: string;

/** The resources the platform documents, each with a call an integration makes on it. */
const RESOURCES: [resource: string, method: 'GET' | 'POST' | 'DELETE', rest: string][] = [
  ['authorization', 'GET', ''],
  ['envelope', 'GET', '/env-1'],
  ['envelopebulk', 'POST', '/send'],
  ['file', 'GET', '/file-1'],
  ['sspfile', 'POST', '/uploadtemporary'],
  ['template', 'GET', '/tpl-1'],
  ['draft', 'POST', '/create'],
  ['organization', 'GET', '/license'],
  ['user', 'GET', '/info'],
  ['team', 'DELETE', '/team-1'],
  ['license', 'GET', ''],
];

/** Version as written in the path → the version the gateway forwards. */
const VERSIONS: [form: string, version: number][] = [
  ['v1', 1],
  ['v2', 2],
  ['v3', 3],
  ['v4', 4],
  ['v4.0', 4],
  ['v5', 5],
  ['v6', 6],
  ['v6.0', 6],
];

type Kind = 'apiToken header' | 'Bearer user token' | 'organization token' | 'OAuth access token';
const KINDS: Record<Kind, { authKind: string; headers: () => Record<string, string>; maxVersion: number }> = {
  'apiToken header': { authKind: 'api-token', headers: () => ({ apiToken: alice.token }), maxVersion: 6 },
  'Bearer user token': { authKind: 'api-token', headers: () => ({ Authorization: `Bearer ${alice.token}` }), maxVersion: 6 },
  // Deprecated: REST v1–v5 only (policy/org-token.ts), v6 keeps today's refusal
  'organization token': { authKind: 'org-token', headers: () => ({ organizationKey: orgToken.secret, userLoginName: alice.login }), maxVersion: 5 },
  'OAuth access token': { authKind: 'oauth', headers: () => ({ Authorization: `Bearer ${accessToken}` }), maxVersion: 6 },
};

beforeAll(async () => {
  const created = await new OrgTokenAdmin(ts.store.db, judgeOrgTokenManagement).create(TEST_ACTOR, alice.login, 'Legacy integration', { enabled: true });
  orgToken = { secret: created.secret, tokenId: created.token.id };
  // OAuth: a public client, authorization code with PKCE, consent given as a browser would
  accessToken = await authorize('api');
  readOnlyAccessToken = await authorize('api:read');
  secretsSeen.push(orgToken.secret, accessToken, readOnlyAccessToken);
});

async function authorize(scope: string): Promise<string> {
  const { client } = await new OAuthStore(ts.store.db).registerClient(TEST_ACTOR, { name: `App ${randomUUID().slice(0, 8)}`, redirectUris: [REDIRECT], public: true, description: 'Signs your contracts', logoUrl: 'https://example.test/logo.png' });
  const config = await oidc.discovery(new URL(gw.url), client.id, undefined, oidc.None(), { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
  const callback = await consent(gw.url, url.href, alice.login);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  secretsSeen.push(tokens.refresh_token!, callback.searchParams.get('code')!);
  return tokens.access_token;
}

interface Answer {
  status: number;
  requestId: string | null;
  body: Record<string, unknown> & { CalledBy?: Record<string, unknown> };
}

async function call(method: string, path: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(gw.url + path, {
    method,
    headers: method === 'POST' ? { ...headers, 'content-type': 'application/json' } : headers,
    body: method === 'POST' ? JSON.stringify({ Name: 'Contract' }) : undefined,
  });
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: (await res.json()) as Answer['body'] };
}

/** One line per call, as the upstream saw it (or as the gateway refused it). */
function describeAnswer(a: Answer): string {
  if (a.status !== 200) return `${a.status} ${String(a.body.ErrorId)}`;
  const by = a.body.CalledBy!;
  // The upstream's echo of this very request: same request id, identity of the caller, version
  const same = by.RequestId === a.requestId ? 'this call' : `another call (${String(by.RequestId)})`;
  const noCredential = !(by.ReceivedHeaders as string[]).some((h) => ['apitoken', 'authorization', 'organizationkey', 'userloginname'].includes(h));
  return `200 ${String(a.body.ApiVersion)} ${String(by.AuthKind)} ${by.UserId === alice.userId ? 'alice' : String(by.UserId)} ${same} credential-stripped=${noCredential}`;
}

describe.each(Object.keys(KINDS) as Kind[])('%s', (kind) => {
  const k = KINDS[kind];

  it.each(RESOURCES)('/Api/v{N}/%s × every version reaches the upstream', async (resource, method, rest) => {
    const rows: string[] = [];
    const want: string[] = [];
    for (const [form, version] of VERSIONS) {
      const path = `/Api/${form}/${resource}${rest}`;
      const a = await call(method, path, k.headers());
      rows.push(`${method} ${path} → ${describeAnswer(a)}`);
      want.push(`${method} ${path} → ${version <= k.maxVersion ? `200 v${version} ${k.authKind} alice this call credential-stripped=true` : '403 VersionNotAllowed'}`);
      if (a.status !== 200) continue;
      // What arrived upstream: the canonical path (`.0` dropped), the method, the resource
      if (resource === 'authorization') expect(a.body).toMatchObject({ UserId: alice.userId, LoginName: alice.login, AuthKind: k.authKind });
      else if (!['envelope', 'template', 'file'].includes(resource) || method !== 'GET') {
        expect(a.body).toMatchObject({ Resource: resource, Method: method, Path: `/Api/v${version}/${resource}${rest}` });
      }
      if (method === 'POST') expect(a.body.Received).toMatchObject({ Bytes: JSON.stringify({ Name: 'Contract' }).length });
    }
    expect(rows).toEqual(want);
  });

  it('GET /Api/v{N}/authorization says who the caller is on each version it may call', async () => {
    for (const [form, version] of VERSIONS) {
      const a = await call('GET', `/Api/${form}/authorization`, k.headers());
      if (version > k.maxVersion) {
        expect([a.status, a.body.ErrorId]).toEqual([403, 'VersionNotAllowed']);
        continue;
      }
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ UserId: alice.userId, OrganizationId: alice.organizationId, LoginName: alice.login, AuthKind: k.authKind, ApiVersion: `v${version}` });
    }
  });
});

describe('the paths the issue names', () => {
  it.each<[string, string]>([
    ['GET', '/Api/v4/authorization'],
    ['POST', '/Api/v4.0/sspfile/uploadtemporary'],
    ['POST', '/Api/v6/draft/create'],
    ['GET', '/Api/v6/organization/license'],
    ['GET', '/api/V5/Authorization'],
    ['PUT', '/Api/v6/envelope/env-1/unlock'],
    ['GET', '/Api/v6/a-resource-nobody-documented/1?x=1'],
  ])('%s %s is forwarded', async (method, path) => {
    const res = await fetch(gw.url + path, { method, headers: { apiToken: alice.token } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { CalledBy: { RequestId: string; UserId: string } };
    expect(body.CalledBy).toMatchObject({ RequestId: res.headers.get('x-request-id'), UserId: alice.userId });
  });
});

describe('policy is unchanged on the newly routed resources', () => {
  it('no credential → 401, a malformed one → 401, on any resource', async () => {
    for (const path of ['/Api/v4/authorization', '/Api/v6/draft/create', '/Api/v6/something-else']) {
      const none = await call('GET', path, {});
      expect([none.status, none.body.ErrorId, none.body.SupportId]).toEqual([401, 'CredentialMissing', none.requestId]);
      expect((await call('GET', path, { apiToken: 'nonsense' })).body.ErrorId).toBe('CredentialMalformed');
    }
  });

  it('a user without the API permission → 403 on authorization and on any resource', async () => {
    const plain = await seedUser(ts.store, { roles: ['Plain'] });
    secretsSeen.push(plain.token);
    for (const path of ['/Api/v4/authorization', '/Api/v6/license', '/Api/v6/whatever']) {
      const a = await call('GET', path, { apiToken: plain.token });
      expect([a.status, a.body.ErrorId]).toEqual([403, 'PermissionDenied']);
    }
  });

  it('OAuth scope api:read: GET any resource 200, POST 403 ScopeInsufficient', async () => {
    expect((await call('GET', '/Api/v6/authorization', { Authorization: `Bearer ${readOnlyAccessToken}` })).status).toBe(200);
    expect((await call('GET', '/Api/v6/organization/license', { Authorization: `Bearer ${readOnlyAccessToken}` })).status).toBe(200);
    const post = await call('POST', '/Api/v6/draft/create', { Authorization: `Bearer ${readOnlyAccessToken}` });
    expect([post.status, post.body.ErrorId]).toEqual([403, 'ScopeInsufficient']);
  });

  it('an organization token on v6 is refused on every resource, with the deprecation headers', async () => {
    const res = await fetch(`${gw.url}/Api/v6/authorization`, { headers: { organizationKey: orgToken.secret, userLoginName: alice.login } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { ErrorId: string }).ErrorId).toBe('VersionNotAllowed');
    expect(res.headers.get('deprecation')).toBeTruthy();
  });
});

describe('what is still not a route', () => {
  it.each(['/Api/v6', '/Api/v6/', '/Api/v6.0', '/Api/v7/authorization', '/Api/v0/envelope/1', '/Api/v6.1/authorization', '/Api/authorization', '/Api/'])(
    '%s → 404 RouteNotFound',
    async (path) => {
      const a = await call('GET', path, { apiToken: alice.token });
      expect([a.status, a.body.ErrorId, a.body.SupportId]).toEqual([404, 'RouteNotFound', a.requestId]);
    },
  );

  it('a path outside /Api is not forwarded either', async () => {
    const a = await call('GET', '/authorization', { apiToken: alice.token });
    expect([a.status, a.body.ErrorId]).toEqual([404, 'RouteNotFound']);
  });

  it('GET /Api/v{N}/version stays public; other methods and sub-paths of version need a credential', async () => {
    for (const form of ['v1', 'v4.0', 'v6']) expect((await call('GET', `/Api/${form}/version`, {})).status).toBe(200);
    expect((await call('POST', '/Api/v6/version', {})).status).toBe(401);
    expect((await call('GET', '/Api/v6/version/x', {})).status).toBe(401);
  });
});

describe('operations', () => {
  it('metrics label resources from a bounded vocabulary: an undocumented one counts as `other`', async () => {
    await call('GET', '/Api/v6/zz-made-up-resource/1', { apiToken: alice.token });
    const metrics = await (await fetch(gw.metricsUrl)).text();
    expect(metrics).not.toContain('zz-made-up-resource');
    expect(metrics).toMatch(/gatehouse_http_requests_total\{[^}]*route="other"/);
    expect(metrics).toMatch(/gatehouse_http_requests_total\{[^}]*route="authorization"/);
  });

  it('no credential reaches a log line', () => {
    const logs = gw.logs.join('\n');
    expect(gw.logs.length).toBeGreaterThan(100);
    for (const s of secretsSeen) expect(logs).not.toContain(s);
  });
});

describe('a resource family sent to another upstream', () => {
  let split: TestGateway;
  beforeAll(async () => {
    split = await startTestGateway({ store: ts.store, storeUrl: ts.url, overrides: { routes: { SspFile: 'file', license: 'template' }, rest: { defaultUpstream: 'template' } } });
  });
  afterAll(async () => {
    await split?.close();
  });

  it('goes where config says; resources it does not name go to rest.defaultUpstream', async () => {
    const cases: [method: string, path: string, upstream: string][] = [
      ['POST', '/Api/v4.0/sspfile/uploadtemporary', 'file'],
      ['GET', '/Api/v6/license', 'template'],
      ['GET', '/Api/v6/authorization', 'template'],
      ['POST', '/Api/v6/draft/create', 'template'],
      // config/default.json pins envelope and file to their own upstreams
      ['GET', '/Api/v6/envelope/1', 'envelope'],
      ['GET', '/Api/v6/file/1', 'file'],
    ];
    for (const [method, path, upstream] of cases) {
      const res = await fetch(split.url + path, { method, headers: { apiToken: alice.token } });
      expect(res.status).toBe(200);
      const requestId = res.headers.get('x-request-id');
      await res.arrayBuffer();
      // The access line is written when the response closes
      const accessLine = () => split.logs.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'access' && l.requestId === requestId);
      await expect.poll(() => accessLine()?.upstream).toBe(upstream);
    }
  });
});
