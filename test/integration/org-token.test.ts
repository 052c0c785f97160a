// Organization API tokens end to end: real HTTP through the gateway to the real sample upstream,
// on the dialect this project runs (SQLite or PostgreSQL). One gateway and one seeded data set per
// file; the tests that change flags, roles or tokens use an organization of their own.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/tokens/token-format.js';
import { orgTokenRequests } from '../../src/observability/metrics.js';
import { OrgTokenAdmin, OrgTokenManagementRefused } from '../../src/store/org-token-admin.js';
import { judgeOrgTokenManagement } from '../../src/policy/org-token.js';
import { seedOrganization, TEST_ACTOR } from '../helpers/fixtures.js';
import { BY_USER, expected, FLAG, seedOrgTokenOrg, seedOtherOrgUser, type OrgTokenOrg, type UserState } from '../helpers/org-token-rule.js';
import { useGateway } from '../helpers/use-gateway.js';

// Organization ids in the org-token metric's labels: off by default, on here (observability.organizationLabels)
const { ts, gw } = useGateway({ overrides: { observability: { organizationLabels: true } } });
let orgTokens: OrgTokenAdmin;
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const secretsSeen: string[] = [];

let flagOn: OrgTokenOrg;
let flagOff: OrgTokenOrg;

const login = () => `ot-${randomBytes(4).toString('hex')}@example.test`;

beforeAll(async () => {
  orgTokens = new OrgTokenAdmin(ts.store.db, judgeOrgTokenManagement);
  const other = await seedOtherOrgUser(ts.store, login());
  flagOn = await seedOrgTokenOrg(ts.store, true, other);
  flagOff = await seedOrgTokenOrg(ts.store, false, other);
  secretsSeen.push(flagOn.token, flagOff.token);
});
afterAll(() => {
  agent.destroy();
});

// --- the combinatorial table ---------------------------------------------------------------------

/** Raw paths (sent exactly as written) → the REST version the normalized path reaches. */
const PATHS: [path: string, version: number][] = [
  ['/Api/v1/envelope/1', 1],
  ['/Api/v2/envelope/1', 2],
  ['/Api/v3/template/1', 3],
  ['/Api/v4/envelope/1', 4],
  ['/Api/v5/envelope/1', 5],
  ['/Api/v6/envelope/1', 6],
  ['/Api/v5.0/envelope/1', 5],
  ['/api/V5/envelope/1', 5],
  ['/API/v6.0/envelope/1', 6],
  ['/Api/v6/../v5/envelope/1', 5],
  ['/Api/v5/../v6/envelope/1', 6],
  ['/Api/v5/./envelope/../../v6/envelope/1', 6],
  ['/Api/v5/%2e%2e/v6/envelope/1', 6],
  ['/Api/v5/%2E%2e/%2e%2E/Api/v6/envelope/1', 6],
  ['/%41pi/%76%36/envelope/1', 6],
  ['//Api//v5//envelope/1', 5],
];

const HEADER_FORMS: Record<string, (token: string, login: string) => Record<string, string>> = {
  'organizationKey + userLoginName': (t, l) => ({ organizationKey: t, userLoginName: l }),
  'APITOKEN + UserLoginName': (t, l) => ({ APITOKEN: t, UserLoginName: l }),
  'Bearer + USERLOGINNAME (login upper-cased)': (t, l) => ({ Authorization: `Bearer ${t}`, USERLOGINNAME: l.toUpperCase() }),
};

describe.each([
  ['flag on', true],
  ['flag off', false],
] as const)('organization token, %s', (_label, flag) => {
  it.each(PATHS)('%s (v%i) × user state × header form', async (path, version) => {
    const org = flag ? flagOn : flagOff;
    const rows: string[] = [];
    const want: string[] = [];
    for (const state of Object.keys(BY_USER) as UserState[]) {
      for (const [form, headers] of Object.entries(HEADER_FORMS)) {
        const res = await rawGet(path, headers(org.token, org.logins[state]));
        const body = JSON.parse(res.body);
        const deprecated = res.headers.deprecation === '@1782864000' && !!res.headers.sunset && /rel="deprecation"/.test(String(res.headers.link));
        const [status, errorId] = expected(version, flag, state);
        rows.push(`${state} | ${form} → ${res.status} ${body.ErrorId ?? body.ApiVersion} deprecated=${deprecated}`);
        want.push(`${state} | ${form} → ${status} ${errorId ?? `v${version}`} deprecated=true`);
        if (res.status === 200) expect(body.CalledBy).toMatchObject({ UserId: org.userIds[state], AuthKind: 'org-token', TokenId: org.tokenId, OrganizationId: org.id });
      }
    }
    expect(rows).toEqual(want);
  });
});

// --- the rest of the rules -----------------------------------------------------------------------

describe('extraction', () => {
  it.each(Object.keys(HEADER_FORMS))('an org token without userLoginName → 400 (%s), still marked deprecated', async (form) => {
    const headers = Object.fromEntries(Object.entries(HEADER_FORMS[form]!(flagOn.token, 'x')).filter(([k]) => k.toLowerCase() !== 'userloginname'));
    const res = await rawGet('/Api/v5/envelope/1', headers);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ ErrorId: 'OrgTokenLoginMissing', SupportId: res.headers['x-request-id'] });
    expect(res.headers.deprecation).toBeDefined();
  });

  it('organizationKey with a different apiToken → 400', async () => {
    const res = await rawGet('/Api/v5/envelope/1', { organizationKey: flagOn.token, apiToken: flagOff.token, userLoginName: flagOn.logins.enabled });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).ErrorId).toBe('CredentialConflict');
  });

  it('401 for a bad checksum, an unknown gto_ token and a user token sent as organizationKey', async () => {
    const badChecksum = flagOn.token.slice(0, -1) + (flagOn.token.endsWith('A') ? 'B' : 'A');
    const cases: [string, string][] = [[badChecksum, 'CredentialMalformed'], [mintToken('organization'), 'CredentialUnknown'], [mintToken('user'), 'CredentialUnknown']];
    for (const [token, code] of cases) {
      const res = await rawGet('/Api/v5/envelope/1', { organizationKey: token, userLoginName: flagOn.logins.enabled });
      expect([res.status, JSON.parse(res.body).ErrorId]).toEqual([401, code]);
      expect(res.headers['www-authenticate']).toBeDefined();
    }
  });

  it('tells the upstream the acting user and the token kind, never the token or its headers', async () => {
    const res = await rawGet('/Api/v4/envelope/7', { organizationKey: flagOn.token, userLoginName: flagOn.logins.enabled });
    expect(res.status).toBe(200);
    const { CalledBy } = JSON.parse(res.body);
    expect(CalledBy).toMatchObject({ UserId: flagOn.userIds.enabled, LoginName: flagOn.logins.enabled, AuthKind: 'org-token', TokenId: flagOn.tokenId });
    for (const h of ['organizationkey', 'userloginname', 'apitoken', 'authorization']) expect(CalledBy.ReceivedHeaders).not.toContain(h);
    expect(res.headers).toMatchObject({ deprecation: '@1782864000', sunset: 'Fri, 31 Dec 2027 23:59:59 GMT' });
    expect(res.headers.link).toBe('<https://docs.gatehouse.example/migrate/organization-tokens>; rel="deprecation"; type="text/html"');
  });

  it('user API tokens get no deprecation headers', async () => {
    const { secret } = await ts.store.admin.createApiToken(TEST_ACTOR, flagOn.logins.enabled, 'user token', { enabled: true });
    secretsSeen.push(secret);
    const res = await rawGet('/Api/v6/envelope/1', { apiToken: secret, userLoginName: 'ignored@example.test' });
    expect(res.status).toBe(200);
    expect(res.headers.deprecation).toBeUndefined();
  });
});

describe('changes take effect on the next request', () => {
  let org: OrgTokenOrg;
  beforeAll(async () => {
    const other = await ts.store.admin.createUser(TEST_ACTOR, flagOff.name, login(), ['Integrators']);
    org = await seedOrgTokenOrg(ts.store, true, { login: other.loginName, id: other.id });
    secretsSeen.push(org.token);
  });
  const call = () => rawGet('/Api/v5/envelope/1', { organizationKey: org.token, userLoginName: org.logins.enabled });
  const status = async () => {
    const res = await call();
    return [res.status, res.status === 200 ? null : JSON.parse(res.body).ErrorId];
  };

  it('the feature flag: off → 403, back on → the same token works again', async () => {
    expect(await status()).toEqual([200, null]);
    await ts.store.admin.setOrganizationFeature(TEST_ACTOR, org.name, FLAG, false);
    await gw.gateway.follower.poll();
    expect(await status()).toEqual([403, 'FeatureFlagMissing']);
    await ts.store.admin.setOrganizationFeature(TEST_ACTOR, org.name, FLAG, true);
    await gw.gateway.follower.poll();
    expect(await status()).toEqual([200, null]);
  });

  it('a role denying API, then removed', async () => {
    await ts.store.admin.assignRole(TEST_ACTOR, org.logins.enabled, 'Blocked');
    await gw.gateway.follower.poll();
    expect(await status()).toEqual([403, 'PermissionDenied']);
    await ts.store.admin.assignRole(TEST_ACTOR, org.logins.enabled, 'Blocked', false);
    await gw.gateway.follower.poll();
    expect(await status()).toEqual([200, null]);
  });

  it('the role itself losing API', async () => {
    await ts.store.admin.setRolePermission(TEST_ACTOR, org.name, 'Integrators', 'API', 'deny');
    await gw.gateway.follower.poll();
    expect(await status()).toEqual([403, 'PermissionDenied']);
    await ts.store.admin.setRolePermission(TEST_ACTOR, org.name, 'Integrators', 'API', 'allow');
    await gw.gateway.follower.poll();
    expect(await status()).toEqual([200, null]);
  });

  it('the acting user disabled, and a login created after it was tried', async () => {
    await ts.store.admin.setUserEnabled(TEST_ACTOR, org.logins.enabled, false);
    await gw.gateway.follower.poll();
    expect(await status()).toEqual([403, 'ActingUserDisabled']);
    await ts.store.admin.setUserEnabled(TEST_ACTOR, org.logins.enabled, true);
    const late = login();
    const tryLate = async () => (await rawGet('/Api/v5/envelope/1', { organizationKey: org.token, userLoginName: late })).status;
    expect(await tryLate()).toBe(403); // cached as absent
    await ts.store.admin.createUser(TEST_ACTOR, org.name, late, ['Integrators']);
    await gw.gateway.follower.poll();
    expect(await tryLate()).toBe(200);
  });

  it('the token disabled, enabled and deleted by a managing user', async () => {
    await orgTokens.setEnabled(TEST_ACTOR, org.logins.enabled, org.tokenId, false);
    await gw.gateway.follower.poll();
    expect(await status()).toEqual([401, 'CredentialDisabled']);
    await orgTokens.setEnabled(TEST_ACTOR, org.logins.enabled, org.tokenId, true);
    await gw.gateway.follower.poll();
    expect(await status()).toEqual([200, null]);
    await orgTokens.delete(TEST_ACTOR, org.logins.enabled, org.tokenId);
    await gw.gateway.follower.poll();
    expect(await status()).toEqual([401, 'CredentialUnknown']);
  });
});

describe('management: only a user of the organization whose API permission is in effect, flag on', () => {
  it('lists and creates for an allowed user; never returns a secret in a list', async () => {
    const { token, secret } = await orgTokens.create(TEST_ACTOR, flagOn.logins.enabled, 'Second');
    secretsSeen.push(secret);
    expect(token).toMatchObject({ organizationId: flagOn.id, enabled: false, createdBy: flagOn.userIds.enabled, hint: `gto_…${secret.slice(-4)}` });
    const list = await orgTokens.list(flagOn.logins.enabled);
    expect(list.map((t) => t.name)).toEqual(expect.arrayContaining(['Legacy integration', 'Second']));
    expect(JSON.stringify(list)).not.toContain(secret.slice(4, 34));
    const audit = await ts.store.db.selectFrom('audit_events').selectAll().where('target_id', '=', token.id).execute();
    expect(audit).toMatchObject([{ action: 'org_token.create', actor: `user:${flagOn.userIds.enabled}`, organization_id: flagOn.id }]);
  });

  it.each<[string, () => [string, string], string]>([
    ['a user blocked by another role', () => [flagOn.logins.allowedAndDenied, flagOn.name], 'permission-blocked'],
    ['a user without the permission', () => [flagOn.logins.noPermission, flagOn.name], 'permission-missing'],
    ['a disabled user', () => [flagOn.logins.disabled, flagOn.name], 'user-disabled'],
    ['an allowed user while the flag is off', () => [flagOff.logins.enabled, flagOff.name], 'feature-disabled'],
  ])('%s may not list, create or manage (%s)', async (_name, who, reason) => {
    const [actor] = who();
    const org = actor === flagOff.logins.enabled ? flagOff : flagOn;
    const attempts = [
      () => orgTokens.list(actor),
      () => orgTokens.create(TEST_ACTOR, actor, 'Nope'),
      () => orgTokens.setEnabled(TEST_ACTOR, actor, org.tokenId, false),
      () => orgTokens.delete(TEST_ACTOR, actor, org.tokenId),
    ];
    for (const attempt of attempts) {
      const err = await attempt().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(OrgTokenManagementRefused);
      expect((err as OrgTokenManagementRefused).reason).toBe(reason);
    }
    expect(await orgTokens.managementStatus(actor)).toMatchObject({ enabled: false, reason, message: expect.any(String) });
  });

  it("cannot touch another organization's token (not found, no hint it exists)", async () => {
    await ts.store.admin.setOrganizationFeature(TEST_ACTOR, flagOff.name, FLAG, true);
    try {
      await expect(orgTokens.setEnabled(TEST_ACTOR, flagOff.logins.enabled, flagOn.tokenId, false)).rejects.toMatchObject({ code: 'NotFound' });
    } finally {
      await ts.store.admin.setOrganizationFeature(TEST_ACTOR, flagOff.name, FLAG, false);
      await gw.gateway.follower.poll();
    }
  });
});

describe('the CLI', () => {
  it('org feature and org-token create|list|disable|delete with --json; exit 2 on bad input, 3 when refused', async () => {
    const org = await seedOrganization(ts.store);
    const admin = login();
    const blocked = login();
    await ts.store.admin.createUser(TEST_ACTOR, org.name, admin, ['Integrators']);
    await ts.store.admin.createUser(TEST_ACTOR, org.name, blocked, ['Integrators', 'Blocked']);

    const refused = await cli(['org-token', 'create', '--as', admin, '--name', 'X', '--json']);
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stderr)).toMatchObject({ reason: 'feature-disabled' });

    const flag = await cli(['org', 'feature', '--org', org.name, '--enable', FLAG, '--json']);
    expect(JSON.parse(flag.stdout)).toMatchObject({ featureFlags: [FLAG] });

    const created = await cli(['org-token', 'create', '--as', admin, '--name', 'From CLI', '--enable', '--json']);
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout) as { id: string; secret: string; enabled: boolean };
    secretsSeen.push(token.secret);
    expect(token.enabled).toBe(true);
    const res = await rawGet('/Api/v3/envelope/1', { organizationKey: token.secret, userLoginName: admin });
    expect(res.status).toBe(200);

    const list = await cli(['org-token', 'list', '--as', admin, '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject([{ id: token.id, name: 'From CLI', enabled: true }]);
    expect(list.stdout).not.toContain(token.secret);

    const blockedList = await cli(['org-token', 'list', '--as', blocked, '--json']);
    expect([blockedList.code, JSON.parse(blockedList.stderr).reason]).toEqual([3, 'permission-blocked']);

    const disabled = await cli(['org-token', 'disable', '--as', admin, '--id', token.id, '--json']);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ id: token.id, enabled: false });
    await gw.gateway.follower.poll();
    expect((await rawGet('/Api/v3/envelope/1', { organizationKey: token.secret, userLoginName: admin })).status).toBe(401);

    expect((await cli(['org-token', 'delete', '--as', admin, '--id', token.id, '--json'])).code).toBe(0);
    expect((await cli(['org-token', 'delete', '--as', admin, '--id', token.id, '--json'])).code).toBe(2);
    expect((await cli(['org-token', 'create', '--name', 'no actor'])).code).toBe(2);
  }, 120_000); // spawns the CLI about eight times
});

describe('observability and secrets', () => {
  it('counts calls per organization id and outcome', async () => {
    const count = async (outcome: string) =>
      (await orgTokenRequests.get()).values.find((v) => v.labels.organization_id === flagOn.id && v.labels.outcome === outcome)?.value ?? 0;
    const [ok, denied] = [await count('forwarded'), await count('VersionNotAllowed')];
    await rawGet('/Api/v5/envelope/1', { organizationKey: flagOn.token, userLoginName: flagOn.logins.enabled });
    await rawGet('/Api/v6/envelope/1', { organizationKey: flagOn.token, userLoginName: flagOn.logins.enabled });
    await rawGet('/Api/v6/envelope/1', { organizationKey: flagOn.token, userLoginName: flagOn.logins.enabled });
    expect([await count('forwarded'), await count('VersionNotAllowed')]).toEqual([ok + 1, denied + 2]);
    const labels = (await orgTokenRequests.get()).values.map((v) => JSON.stringify(v.labels)).join();
    expect(labels).not.toContain(flagOn.name);
    expect(labels).not.toContain(flagOn.logins.enabled);
  });

  it('writes authKind org-token and the organization id to the access log', async () => {
    const requestId = `org-token-${randomBytes(4).toString('hex')}`;
    await rawGet('/Api/v5/envelope/1', { organizationKey: flagOn.token, userLoginName: flagOn.logins.enabled, 'X-Request-Id': requestId });
    await new Promise((r) => setTimeout(r, 20));
    const line = gw.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === requestId);
    expect(line).toMatchObject({ message: 'access', status: 200, authKind: 'org-token', organizationId: flagOn.id, tokenId: flagOn.tokenId, userId: flagOn.userIds.enabled });
  });

  it('never writes an organization token to a log line or an error body', async () => {
    const bodies: string[] = [];
    for (const t of secretsSeen.filter((s) => s.startsWith('gto_'))) {
      bodies.push((await rawGet('/Api/v6/envelope/1', { organizationKey: t, userLoginName: flagOn.logins.enabled })).body);
      bodies.push((await rawGet('/Api/v5/envelope/1', { organizationKey: t })).body);
      bodies.push((await rawGet('/Api/v5/envelope/1', { organizationKey: t.slice(0, -1) + '0', userLoginName: 'x@y.z' })).body);
      bodies.push((await rawGet('/Api/v5/envelope/1', { organizationKey: t, apiToken: flagOff.token, userLoginName: 'x@y.z' })).body);
    }
    const everything = gw.logs.join('\n') + bodies.filter((b) => b.includes('ErrorId')).join('\n');
    expect(secretsSeen.length).toBeGreaterThan(3);
    for (const t of secretsSeen) {
      expect(everything).not.toContain(t);
      expect(everything).not.toContain(t.slice(4, 34));
    }
  });
});

// --- helpers -------------------------------------------------------------------------------------

/** A GET with the path sent exactly as written (fetch and supertest would normalize it). */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Runs the built `gatehouse` command against this file's store, as an operator would. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: ts.url } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
