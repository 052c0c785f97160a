// Restricted tokens at the edge (issue 20): one permission vocabulary on both surfaces. Each
// family × access is tried with a token restricted to each family × access, on REST (a call of the
// platform's per family and access) and on SOAP 1.1 (every operation of the WSDL, through a client
// generated from it); then the client networks (IPv4, IPv6, v4-mapped, behind a trusted proxy and
// not), the version ceiling, the intersection with a role that denies the API, a call outside the
// vocabulary (fail closed), and what the upstream is told (the effective permissions).
import * as soap from 'soap';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { SOAP_OPERATION_NEEDS } from '../../src/permissions/soap-map.js';
import { ACCESSES, FAMILIES, type Access, type Family, type Permission } from '../../src/permissions/vocabulary.js';
import type { RestrictionsInput } from '../../src/permissions/restrictions.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { PLATFORM_OPERATIONS } from '../helpers/platform-contract.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users, secrets, startGateway } = useGateway({
  users: { alice: { org: 'acme' }, blocked: { org: 'acme', roles: ['Integrators', 'Blocked'] } },
  noSecretsInLogs: true,
});

let n = 0;
/** A new enabled token of `login` with these restrictions; its secret joins the ones no log may hold. */
async function restrictedToken(restrictions: RestrictionsInput | null, login = users.alice.login): Promise<string> {
  const { secret } = await ts.store.admin.createApiToken(TEST_ACTOR, login, `restricted ${++n}`, { enabled: true, restrictions });
  secrets.push(secret);
  return secret;
}

/** One REST call of the platform per family and access (v6 where it has one, v5 for users). */
const REST_CALLS: Record<Family, Record<Access, [string, string]>> = {
  envelope: { read: ['GET', '/Api/v6/envelope/1'], write: ['POST', '/Api/v6/envelope/send'] },
  template: { read: ['POST', '/Api/v6/template/find'], write: ['POST', '/Api/v6/template/createdraft'] },
  draft: { read: ['GET', '/Api/v6/draft/d1'], write: ['POST', '/Api/v6/draft/create'] },
  file: { read: ['GET', '/Api/v6/file/f1'], write: ['POST', '/Api/v4/sspfile/uploadtemporary'] },
  organization: { read: ['GET', '/Api/v6/organization/license'], write: ['POST', '/Api/v6/organization/team/replace'] },
  user: { read: ['GET', '/Api/v5/user/me'], write: ['PATCH', '/Api/v5/user/u1'] },
};

const allowedBy = (granted: Permission, family: Family, access: Access) => {
  const [f, a] = granted.split(':');
  return f === family && (a === 'write' || access === 'read');
};

const rest = (base: string, method: string, path: string, token: string) =>
  request(base)[method.toLowerCase() as 'get'](path).set('apiToken', token).set('Content-Type', 'application/json').send(method === 'GET' ? undefined : '{}');

const tokens = {} as Record<Permission, string>;
beforeAll(async () => {
  for (const family of FAMILIES) for (const access of ACCESSES) tokens[`${family}:${access}`] = await restrictedToken({ permissions: [`${family}:${access}`] });
});

describe('REST: each family × access, with a token restricted to each family × access', () => {
  const cases = FAMILIES.flatMap((family) => ACCESSES.map((access) => [family, access] as const));
  it.each(cases)('%s:%s', async (family, access) => {
    const [method, path] = REST_CALLS[family][access];
    const outcomes: string[] = [];
    for (const granted of Object.keys(tokens) as Permission[]) {
      const res = await rest(gw.url, method, path, tokens[granted]);
      const allowed = allowedBy(granted, family, access);
      outcomes.push(`${granted} → ${res.status}`);
      if (allowed) {
        expect(res.status, `${granted} on ${method} ${path}`).toBe(200);
      } else {
        expect([res.status, res.body.ErrorId], `${granted} on ${method} ${path}`).toEqual([403, 'TokenRestricted']);
        // The refusal names the restriction, in words and by name, and never the token
        expect(res.body.Message).toContain(`${family}:${access}`);
        expect(res.body.SupportId).toBe(res.headers['x-request-id']);
        expect(JSON.stringify(res.body)).not.toContain(tokens[granted]);
      }
    }
    expect(outcomes.filter((o) => o.endsWith('200'))).toHaveLength(access === 'read' ? 2 : 1);
  });
});

describe('SOAP 1.1: every operation of the WSDL, with its family read-only and read-write', () => {
  const field = (result: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(result)?.[1];
  const args = (op: string, token: string) => {
    const a: Record<string, string> = {};
    for (const p of PLATFORM_OPERATIONS[op]!) a[p] = p === 'expirationInDays' ? '7' : `${p}-value`;
    delete a.sspFileIds;
    if (a.authorizationXml !== undefined) a.authorizationXml = `<authorization><apiToken>${token}</apiToken></authorization>`;
    if (a.userToken !== undefined) a.userToken = token;
    return a;
  };
  const ops = Object.entries(SOAP_OPERATION_NEEDS).filter(([, need]) => need !== 'any-token');

  it.each(ops)('%s (%o)', async (op, need) => {
    if (need === 'any-token') return;
    const client = await soap.createClientAsync(`${gw.url}/api.asmx?wsdl`);
    const call = async (token: string) => {
      const [out] = await client[`${op}Async`](args(op, token));
      return out[`${op}Result`] as string;
    };
    const other = need.family === 'envelope' ? 'template' : 'envelope';
    for (const [granted, allowed] of [
      [`${need.family}:read`, need.access === 'read'],
      [`${need.family}:write`, true],
      [`${other}:write`, false],
    ] as const) {
      const result = await call(tokens[granted as Permission]);
      if (allowed) {
        expect(field(result, 'baseResult'), `${granted} on ${op}`).toBe('ok');
      } else {
        // The platform's failure form: HTTP 200, baseResult failed, the code and the permission in words
        expect([field(result, 'baseResult'), field(result, 'error')], `${granted} on ${op}`).toEqual(['failed', 'TokenRestricted']);
        expect(field(result, 'errorMsg')).toContain(`${need.family}:${need.access}`);
        expect(field(result, 'supportId')).toBe(client.lastResponseHeaders?.['x-request-id']);
      }
    }
  });

  it('the credential check (ValidateAuthorization_v1) and the public GetVersion_v1 pass with a token granted nothing', async () => {
    const nothing = await restrictedToken({ permissions: [] });
    const client = await soap.createClientAsync(`${gw.url}/api.asmx?wsdl`);
    const [validated] = await client.ValidateAuthorization_v1Async(args('ValidateAuthorization_v1', nothing));
    expect(field(validated.ValidateAuthorization_v1Result, 'baseResult')).toBe('ok');
    const [version] = await client.GetVersion_v1Async({});
    expect(field(version.GetVersion_v1Result, 'baseResult')).toBe('ok');
    expect((await rest(gw.url, 'GET', '/Api/v4/authorization', nothing)).status).toBe(200);
    expect((await rest(gw.url, 'GET', '/Api/v6/envelope/1', nothing)).body.ErrorId).toBe('TokenRestricted');
  });
});

describe('outside the vocabulary', () => {
  it('a restricted token is refused (fail closed); an unrestricted one, or one restricted only by network, is forwarded', async () => {
    const networkOnly = await restrictedToken({ networks: ['127.0.0.0/8', '::1/128'] });
    for (const [method, path] of [['GET', '/Api/v6/a-resource-nobody-mapped/1'], ['OPTIONS', '/Api/v6/envelope/1'], ['POST', '/Api/v4/authorization']]) {
      const refused = await rest(gw.url, method!, path!, tokens['envelope:write']);
      expect([refused.status, refused.body.ErrorId], `${method} ${path}`).toEqual([403, 'TokenRestricted']);
      expect(refused.body.Message).toContain('not covered');
      expect((await rest(gw.url, method!, path!, users.alice.token)).status, `${method} ${path}`).not.toBe(403);
      expect((await rest(gw.url, method!, path!, networkOnly)).status, `${method} ${path}`).not.toBe(403);
    }
  });
});

describe('client networks', () => {
  it('judged on the peer address when it is no trusted proxy, whatever X-Forwarded-For claims', async () => {
    const loopback = await restrictedToken({ networks: ['127.0.0.0/8'] });
    const elsewhere = await restrictedToken({ networks: ['203.0.113.0/24'] });
    expect((await rest(gw.url, 'GET', '/Api/v6/envelope/1', loopback)).status).toBe(200);
    const refused = await rest(gw.url, 'GET', '/Api/v6/envelope/1', elsewhere).set('X-Forwarded-For', '203.0.113.5');
    expect([refused.status, refused.body.ErrorId]).toEqual([403, 'TokenRestricted']);
    expect(refused.body.Message).toContain('network');
  });

  it('judged on the forwarded client address behind a trusted proxy: IPv4 edges, IPv6, v4-mapped IPv6', async () => {
    const proxied = await startGateway({ overrides: { http: { ...gw.config.http, trustedProxies: ['127.0.0.1/8', '::1/128'] } } });
    const v4 = await restrictedToken({ networks: ['203.0.113.0/24'] });
    const v6 = await restrictedToken({ networks: ['2001:db8::/32'] });
    const cases: [string, string, number][] = [
      [v4, '203.0.113.0', 200],
      [v4, '203.0.113.255', 200],
      [v4, '203.0.112.255', 403],
      [v4, '203.0.114.0', 403],
      [v4, '198.51.100.7, 203.0.113.9', 200], // the right-most address the proxy added is the client
      [v4, '203.0.113.9, 198.51.100.7', 403],
      [v4, '::ffff:203.0.113.20', 200],
      [v4, '2001:db8::1', 403],
      [v6, '2001:db8::1', 200],
      [v6, '2001:db8:ffff:ffff::1', 200],
      [v6, '2001:db9::1', 403],
      [v6, '203.0.113.9', 403],
    ];
    for (const [token, xff, status] of cases) {
      const res = await rest(proxied.url, 'GET', '/Api/v6/envelope/1', token).set('X-Forwarded-For', xff);
      expect(res.status, `${token === v4 ? '203.0.113.0/24' : '2001:db8::/32'} from ${xff}`).toBe(status);
    }
  });
});

describe('the version ceiling', () => {
  it('holds REST versions at or below it; SOAP has no version line and is not limited by it', async () => {
    const upToFive = await restrictedToken({ maxVersion: 5 });
    expect((await rest(gw.url, 'GET', '/Api/v5/envelope/1', upToFive)).status).toBe(200);
    expect((await rest(gw.url, 'GET', '/Api/v5.0/envelope/1', upToFive)).status).toBe(200);
    expect((await rest(gw.url, 'GET', '/Api/v1/envelope/1', upToFive)).status).toBe(200);
    const refused = await rest(gw.url, 'GET', '/Api/v6/envelope/1', upToFive);
    expect([refused.status, refused.body.ErrorId]).toEqual([403, 'TokenRestricted']);
    expect(refused.body.Message).toContain('version 5 and earlier');
    const client = await soap.createClientAsync(`${gw.url}/api.asmx?wsdl`);
    const [out] = await client.GetEnvelopeById_v1Async({ authorizationXml: `<authorization><apiToken>${upToFive}</apiToken></authorization>`, envelopeId: '1' });
    expect(out.GetEnvelopeById_v1Result).toContain('<baseResult>ok</baseResult>');
  });
});

describe('the intersection with the roles', () => {
  it('a restriction never widens them: a user whose role denies the API is refused with any token', async () => {
    const wide = await restrictedToken({ permissions: ['envelope:write'] }, users.blocked.login);
    const res = await rest(gw.url, 'GET', '/Api/v6/envelope/1', wide);
    expect([res.status, res.body.ErrorId]).toEqual([403, 'PermissionDenied']);
    const client = await soap.createClientAsync(`${gw.url}/api.asmx?wsdl`);
    const [out] = await client.GetEnvelopeById_v1Async({ authorizationXml: `<authorization><apiToken>${wide}</apiToken></authorization>`, envelopeId: '1' });
    expect(out.GetEnvelopeById_v1Result).toContain('<error>ERR0010</error>');
  });
});

describe('what the upstream is told', () => {
  it('the effective permissions (perms) and, in short, whether it may write (scope)', async () => {
    const readOnly = await rest(gw.url, 'GET', '/Api/v6/envelope/1', tokens['envelope:read']);
    expect(readOnly.body.CalledBy).toMatchObject({ Permissions: 'envelope:read', Scope: 'api:read' });
    const mixed = await restrictedToken({ permissions: ['template:read', 'envelope:write'] });
    expect((await rest(gw.url, 'GET', '/Api/v6/envelope/1', mixed)).body.CalledBy).toMatchObject({ Permissions: 'envelope:write template:read', Scope: 'api' });
    const everything = (await rest(gw.url, 'GET', '/Api/v6/envelope/1', users.alice.token)).body.CalledBy;
    expect(everything.Permissions.split(' ')).toEqual(FAMILIES.map((f) => `${f}:write`));
    expect(everything.Scope).toBe('api');
  });
});

describe('a restriction changed while the gateway runs', () => {
  it('takes effect at once on this instance (the cached record is evicted), widening and narrowing', async () => {
    const { token, secret } = await ts.store.admin.createApiToken(TEST_ACTOR, users.alice.login, 'changing', { enabled: true, restrictions: { permissions: ['envelope:read'] } });
    secrets.push(secret);
    expect((await rest(gw.url, 'GET', '/Api/v6/template/1', secret)).status).toBe(403);
    await ts.store.admin.restrictApiToken(TEST_ACTOR, token.id, { permissions: ['envelope:read', 'template:read'] });
    await expect.poll(async () => (await rest(gw.url, 'GET', '/Api/v6/template/1', secret)).status, { timeout: 2000, interval: 20 }).toBe(200);
    await ts.store.admin.restrictApiToken(TEST_ACTOR, token.id, { networks: ['192.0.2.0/24'] });
    await expect.poll(async () => (await rest(gw.url, 'GET', '/Api/v6/template/1', secret)).status, { timeout: 2000, interval: 20 }).toBe(403);
    await ts.store.admin.restrictApiToken(TEST_ACTOR, token.id, null);
    await expect.poll(async () => (await rest(gw.url, 'GET', '/Api/v6/a-resource-nobody-mapped/1', secret)).status, { timeout: 2000, interval: 20 }).toBe(200);
  });

  it('reaches a rolled token under its earlier secret too, while that secret overlaps', async () => {
    const { token, secret: first } = await ts.store.admin.createApiToken(TEST_ACTOR, users.alice.login, 'rolled', { enabled: true });
    secrets.push(first);
    const rolled = await ts.store.lifecycle.rollApiToken(TEST_ACTOR, token.id, '1h');
    secrets.push(rolled.secret);
    expect((await rest(gw.url, 'GET', '/Api/v6/template/1', first)).status).toBe(200); // cached under the earlier secret
    await ts.store.admin.restrictApiToken(TEST_ACTOR, token.id, { permissions: ['envelope:read'] });
    await expect.poll(async () => (await rest(gw.url, 'GET', '/Api/v6/template/1', first)).status, { timeout: 2000, interval: 20 }).toBe(403);
    expect((await rest(gw.url, 'GET', '/Api/v6/template/1', rolled.secret)).status).toBe(403);
  });
});
