// The platform's own organization keys, imported (issue 17, item 4), end to end on SQLite and
// PostgreSQL: `gatehouse org-token import-legacy` (all rows or none, the bad line named), then the
// gateway accepting an imported GUID or 64–66 character key as `organizationKey` exactly where and
// as it accepts a `gto_` token (the same table as org-token.test.ts, side by side), refusing a
// legacy form as malformed with no cache or store read while none of it is imported, SOAP only
// with `orgTokens.allowSoap`, the settings API listing and deleting them, and no key in any log.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashToken } from '../../src/tokens/token-format.js';
import { SOAP11_NS, TNS } from '../../src/soap/protocol.js';
import { OrgTokenAdmin } from '../../src/store/org-token-admin.js';
import { judgeOrgTokenManagement } from '../../src/policy/org-token.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { BY_USER, expected, FLAG, seedOrgTokenOrg, seedOtherOrgUser, type OrgTokenOrg, type UserState } from '../helpers/org-token-rule.js';
import { runCli, runCliJson } from '../helpers/processes.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-server.js';
import { givePassword, signIn } from '../helpers/settings-client.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw } = useGateway();
let orgTokens: OrgTokenAdmin;
let cliEnv: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-org-keys-'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
/** Every key this file presents or imports, in every spelling sent: none may reach a log line. */
const keysSeen: string[] = [];

/** The keys an organization holds: its gto_ token and, once imported, a GUID and a 64–66 character key. */
type KeyKind = 'gto' | 'guid' | 'token';
interface SeededOrg extends OrgTokenOrg {
  keys: Record<KeyKind, string>;
  keyIds: Partial<Record<KeyKind, string>>;
}
let flagOn: SeededOrg;
let flagOff: SeededOrg;

const login = () => `lk-${randomBytes(4).toString('hex')}@example.test`;
/** The platform's key forms: a GUID (v4, as its clients show them) and 64 or 66 lower-case alphanumerics. */
const guid = () => randomUUID();
const platformKey = (length: 64 | 66) => randomBytes(length / 2).toString('hex');

/** An organization with one user per state and an enabled gto_ token; its legacy keys are imported later, by the CLI. */
async function seedOrg(flag: boolean, other: { login: string; id: string }, tokenLength: 64 | 66): Promise<SeededOrg> {
  const org = await seedOrgTokenOrg(ts.store, flag, other, 'lk');
  const keys = { gto: org.token, guid: guid(), token: platformKey(tokenLength) };
  keysSeen.push(...Object.values(keys), keys.guid.toUpperCase());
  return { ...org, keys, keyIds: { gto: org.tokenId } };
}

/** Applies what other processes (the CLI) committed: the change feed, twice in case a poll was already under way. */
async function settle(g: TestGateway = gw): Promise<void> {
  await g.gateway.follower.poll();
  await g.gateway.follower.poll();
}

/** What the store holds of imports: legacy rows, their audit events and the feed entries that announce them. */
async function importTraces() {
  const count = async (q: Promise<{ n: unknown }[]>) => Number((await q)[0]!.n);
  const db = ts.store.db;
  return {
    keys: await count(db.selectFrom('org_api_tokens').select((eb) => eb.fn.countAll().as('n')).where('origin', '!=', 'minted').execute()),
    audits: await count(db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).where('action', '=', 'org_token.import').execute()),
    feed: await count(db.selectFrom('changes').select((eb) => eb.fn.countAll().as('n')).where('cache_key', '=', 'orgkeyforms').execute()),
  };
}

beforeAll(async () => {
  orgTokens = new OrgTokenAdmin(ts.store.db, judgeOrgTokenManagement);
  cliEnv = { DATABASE_URL: ts.url, NODE_ENV: 'test', LOG_LEVEL: 'warn' };
  const other = await seedOtherOrgUser(ts.store, login());
  flagOn = await seedOrg(true, other, 64);
  flagOff = await seedOrg(false, other, 66);
});
afterAll(() => {
  agent.destroy();
});

// --- before any import: a legacy form is garbage, refused with no look-up --------------------------

/** Spies on every read the request path can make: each store look-up and the L1 cache. The change feed's own polling is not a request's read. */
function spyOnReads() {
  const store = ts.store.gateway as unknown as Record<string, (...a: unknown[]) => unknown>;
  const background = new Set(['constructor', 'changesSince', 'latestChangeId', 'recordTokenUse', 'recordOrgTokenUse']);
  const names = Object.getOwnPropertyNames(Object.getPrototypeOf(store)).filter((n) => !background.has(n) && typeof store[n] === 'function');
  expect(names).toEqual(expect.arrayContaining(['findOrgTokenByHash', 'findUserIdByLogin', 'findOrganization', 'legacyOrgKeyForms']));
  const spies: [string, { mock: { calls: unknown[] }; mockRestore(): void }][] = [
    ...names.map((n) => [n, vi.spyOn(store, n as never)] as [string, ReturnType<typeof vi.spyOn>]),
    ['l1.get', vi.spyOn(gw.gateway.l1, 'get')],
  ];
  return {
    calls: () => spies.flatMap(([name, s]) => s.mock.calls.map(() => name)),
    restore: () => spies.forEach(([, s]) => s.mockRestore()),
  };
}

async function expectMalformedWithoutReads(keys: string[]) {
  const reads = spyOnReads();
  try {
    for (const key of keys) {
      const res = await rawGet('/Api/v5/envelope/1', { organizationKey: key, userLoginName: flagOn.logins.enabled });
      expect([res.status, JSON.parse(res.body).ErrorId]).toEqual([401, 'CredentialMalformed']);
      expect(res.headers['www-authenticate']).toBeDefined();
      expect(res.headers.deprecation).toBeDefined(); // an organization-token call, refused as such
    }
    expect(reads.calls()).toEqual([]);
  } finally {
    reads.restore();
  }
}

describe('before any legacy key is imported', () => {
  it('a GUID or 64–66 character organizationKey is refused as malformed (401) with no cache or store read', async () => {
    expect((await importTraces()).keys).toBe(0);
    await expectMalformedWithoutReads([flagOn.keys.guid, flagOn.keys.guid.toUpperCase(), flagOn.keys.token, flagOff.keys.token]);
  });
});

// --- the CLI import ---------------------------------------------------------------------------------

describe('gatehouse org-token import-legacy', () => {
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it.each<[string, () => string, string]>([
    ['an empty name', () => `name,key\nGood,${guid()}\n,${guid()}\n`, 'line 3'],
    ['a key of neither form (a gto_ token)', () => `Good,${guid()}\nBad,${flagOn.keys.gto}\n`, 'line 2'],
    ['a key of neither form (a GUID in braces)', () => `Good,${guid()}\nBad,{${guid()}}\n`, 'line 2'],
    ['a key of neither form (upper-case 64 characters)', () => `Good,${guid()}\nBad,${platformKey(64).toUpperCase()}\n`, 'line 2'],
    ['a key twice in the file (its GUID spelt in another case)', () => `name,key\nA,${flagOn.keys.guid}\nB,${flagOn.keys.guid.toUpperCase()}\n`, 'line 3'],
    ['a name twice in the file', () => `Same,${guid()}\nSame,${platformKey(64)}\n`, 'line 2'],
    ['a missing column', () => `Good,${guid()}\nBad\n`, 'line 2'],
    ['a broken quote', () => `Good,${guid()}\nBad,"${platformKey(64)}"x\n`, 'line 2'],
  ])('a file with %s imports nothing, names the line and exits 2', async (_name, content, line) => {
    const before = await importTraces();
    const text = content();
    const r = await runCli(['org-token', 'import-legacy', '--org', flagOn.name, '--file', write('bad.csv', text), '--json'], cliEnv);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr).error).toContain(line);
    for (const key of text.match(/[0-9A-Za-z_-]{36,}/g) ?? []) expect(r.stderr + r.stdout).not.toContain(key);
    expect(await importTraces()).toEqual(before);
  });

  it('an unknown organization: exit 2, nothing imported', async () => {
    const before = await importTraces();
    const r = await runCli(['org-token', 'import-legacy', '--org', 'No such org', '--file', write('ok.csv', `A,${guid()}\n`)], cliEnv);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('organization "No such org" not found')]);
    expect(await importTraces()).toEqual(before);
  });

  it('the failed imports changed nothing at the gateway: legacy forms are still refused with no read', async () => {
    await settle();
    await expectMalformedWithoutReads([flagOn.keys.guid.toUpperCase(), flagOff.keys.token]);
  });

  it('imports every row (JSON out: names, hints, origin legacy; never a key), hashed as SHA-256 of the lower-cased GUID, audited', async () => {
    const { keys } = flagOn;
    // The file spells the GUID in upper case: a client may send either spelling.
    const file = write('flag-on.csv', `name,key\nERP bridge,${keys.guid.toUpperCase()}\n"Archive, old",${keys.token}\n`);
    const r = await runCli(['org-token', 'import-legacy', '--org', flagOn.name, '--file', file, '--json'], cliEnv);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const imported = JSON.parse(r.stdout) as { id: string; name: string; hint: string; origin: string; enabled: boolean; organizationId: string; createdBy: null }[];
    expect(imported).toEqual([
      expect.objectContaining({ name: 'ERP bridge', hint: `…${keys.guid.slice(-4)}`, origin: 'legacy', enabled: true, organizationId: flagOn.id, createdBy: null }),
      expect.objectContaining({ name: 'Archive, old', hint: `…${keys.token.slice(-4)}`, origin: 'legacy', enabled: true, organizationId: flagOn.id }),
    ]);
    for (const k of [keys.guid, keys.guid.toUpperCase(), keys.token]) expect(r.stdout).not.toContain(k);
    flagOn.keyIds.guid = imported[0]!.id;
    flagOn.keyIds.token = imported[1]!.id;

    const rows = await ts.store.db.selectFrom('org_api_tokens').selectAll().where('id', 'in', [flagOn.keyIds.guid, flagOn.keyIds.token]).orderBy('name').execute();
    expect(rows.map((row) => [row.name, row.token_hash, row.origin])).toEqual([
      ['Archive, old', hashToken(keys.token), 'legacy-token'],
      ['ERP bridge', hashToken(keys.guid), 'legacy-guid'],
    ]);
    const audit = await ts.store.db.selectFrom('audit_events').selectAll().where('target_id', '=', flagOn.keyIds.guid).execute();
    expect(audit).toMatchObject([{ action: 'org_token.import', actor: 'cli', source: 'cli', target_kind: 'org_api_token', organization_id: flagOn.id }]);
    expect(JSON.stringify(audit)).not.toContain(keys.guid.slice(0, 8));

    // The other organization's keys: imported while its flag is off (the flag gates use, not import), one disabled run.
    const off = await runCliJson(['org-token', 'import-legacy', '--org', flagOff.name, '--file', write('flag-off.csv', `GUID,${flagOff.keys.guid}\nLong,${flagOff.keys.token}\n`)], cliEnv);
    flagOff.keyIds.guid = off[0].id;
    flagOff.keyIds.token = off[1].id;
    await settle();
  }, 60_000);

  it('a key already stored (in any organization, in any case) is refused with its line', async () => {
    const before = await importTraces();
    const file = write('again.csv', `New one,${guid()}\nSame key,${flagOn.keys.guid.toUpperCase()}\n`);
    const r = await runCli(['org-token', 'import-legacy', '--org', flagOff.name, '--file', file], cliEnv);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('line 2: this key is already stored')]);
    expect(await importTraces()).toEqual(before);
  });

  it('org-token list marks them imported', async () => {
    const list = await runCli(['org-token', 'list', '--as', flagOn.logins.enabled], cliEnv);
    expect(list.stdout).toMatch(/…\w{4}\s+enabled\s+ERP bridge\s+\(imported\)/);
    expect(list.stdout).toMatch(/gto_…\w{4}\s+enabled\s+Legacy integration\n/);
  });
});

// --- at the gateway: exactly the policy of a gto_ token ----------------------------------------------

const PATHS: [path: string, version: number][] = [
  ['/Api/v1/envelope/1', 1],
  ['/Api/v2/envelope/1', 2],
  ['/Api/v3/template/1', 3],
  ['/Api/v4/envelope/1', 4],
  ['/Api/v5/envelope/1', 5],
  ['/Api/v6/envelope/1', 6],
  ['/api/V5.0/envelope/1', 5],
  ['/Api/v5/../v6/envelope/1', 6],
];

/** How each key is sent: an imported GUID in both spellings (GUIDs are case-insensitive). */
const PRESENTED: [label: string, kind: KeyKind, spell: (k: string) => string][] = [
  ['gto_ token', 'gto', (k) => k],
  ['GUID', 'guid', (k) => k],
  ['GUID in upper case', 'guid', (k) => k.toUpperCase()],
  ['64/66-character key', 'token', (k) => k],
];

describe.each([
  ['flag on', true],
  ['flag off', false],
] as const)('an imported key as organizationKey, %s', (_label, flag) => {
  it.each(PATHS)('%s (v%i) × key kind × user state: the same answers as the gto_ token', async (path, version) => {
    const org = flag ? flagOn : flagOff;
    const rows: string[] = [];
    const want: string[] = [];
    for (const [label, kind, spell] of PRESENTED) {
      for (const state of Object.keys(BY_USER) as UserState[]) {
        const res = await rawGet(path, { organizationKey: spell(org.keys[kind]), userLoginName: org.logins[state] });
        const body = JSON.parse(res.body);
        const deprecated = res.headers.deprecation === '@1782864000' && !!res.headers.sunset && /rel="deprecation"/.test(String(res.headers.link));
        const [status, errorId] = expected(version, flag, state);
        rows.push(`${label} | ${state} → ${res.status} ${body.ErrorId ?? body.ApiVersion} deprecated=${deprecated}`);
        want.push(`${label} | ${state} → ${status} ${errorId ?? `v${version}`} deprecated=true`);
        if (res.status === 200) {
          expect(body.CalledBy).toMatchObject({ UserId: org.userIds[state], LoginName: org.logins[state], AuthKind: 'org-token', TokenId: org.keyIds[kind], OrganizationId: org.id });
          for (const h of ['organizationkey', 'userloginname']) expect(body.CalledBy.ReceivedHeaders).not.toContain(h);
        }
      }
    }
    expect(rows).toEqual(want);
  });
});

describe('refusals of an imported key', () => {
  const call = (key: string, userLoginName?: string) =>
    rawGet('/Api/v5/envelope/1', userLoginName ? { organizationKey: key, userLoginName } : { organizationKey: key });
  const answer = async (p: ReturnType<typeof call>) => {
    const res = await p;
    return [res.status, res.status === 200 ? null : JSON.parse(res.body).ErrorId];
  };

  it('without userLoginName → 400; with another credential → 400 CredentialConflict', async () => {
    expect(await answer(call(flagOn.keys.guid))).toEqual([400, 'OrgTokenLoginMissing']);
    const res = await rawGet('/Api/v5/envelope/1', { organizationKey: flagOn.keys.guid, apiToken: flagOn.keys.token, userLoginName: flagOn.logins.enabled });
    expect([res.status, JSON.parse(res.body).ErrorId]).toEqual([400, 'CredentialConflict']);
  });

  it('a key of an imported form that is not imported → 401 CredentialUnknown (looked up, cached as absent)', async () => {
    const spy = vi.spyOn(ts.store.gateway, 'findOrgTokenByHash');
    try {
      const unknownGuid = guid();
      const unknownToken = platformKey(64);
      keysSeen.push(unknownGuid, unknownToken);
      for (let i = 0; i < 2; i++) {
        expect(await answer(call(unknownGuid, flagOn.logins.enabled))).toEqual([401, 'CredentialUnknown']);
        expect(await answer(call(unknownGuid.toUpperCase(), flagOn.logins.enabled))).toEqual([401, 'CredentialUnknown']);
        expect(await answer(call(unknownToken, flagOn.logins.enabled))).toEqual([401, 'CredentialUnknown']);
      }
      expect(spy.mock.calls).toEqual([[hashToken(unknownGuid)], [hashToken(unknownToken)]]);
    } finally {
      spy.mockRestore();
    }
  });

  it('garbage still costs no read while legacy keys are imported', async () => {
    const reads = spyOnReads();
    try {
      for (const key of ['nonsense', `{${flagOn.keys.guid}}`, flagOn.keys.guid.replaceAll('-', ''), flagOn.keys.token.toUpperCase(), 'x'.repeat(4000)]) {
        expect(await answer(call(key, flagOn.logins.enabled))).toEqual([401, 'CredentialMalformed']);
      }
      expect(reads.calls()).toEqual([]);
    } finally {
      reads.restore();
    }
  });

  it('sent in apiToken it is not an organization key: the user-token path, which knows no such token', async () => {
    const res = await rawGet('/Api/v5/envelope/1', { apiToken: flagOn.keys.token, userLoginName: flagOn.logins.enabled });
    expect([res.status, JSON.parse(res.body).ErrorId]).toEqual([401, 'CredentialUnknown']);
    expect(res.headers.deprecation).toBeUndefined();
  });
});

// --- SOAP: exactly where gto_ tokens are -------------------------------------------------------------

/** GetEnvelopeById_v1 over SOAP 1.1 with an organization key in the AuthorizationHeader element. */
function soapCall(key: string, loginName: string, base = gw.url): Promise<{ status: number; body: string }> {
  const message =
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Header>` +
    `<AuthorizationHeader xmlns="${TNS}"><organizationKey>${key}</organizationKey><userLoginName>${loginName}</userLoginName></AuthorizationHeader></soap:Header>` +
    `<soap:Body><GetEnvelopeById_v1 xmlns="${TNS}"><envelopeId>1</envelopeId></GetEnvelopeById_v1></soap:Body></soap:Envelope>`;
  return rawRequest('POST', '/api.asmx', { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${TNS}GetEnvelopeById_v1"` }, message, base);
}
/** A field of the operation's result: the result is a string holding XML, so it arrives escaped once. */
const field = (body: string, name: string) => {
  const text = body.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
};

describe('SOAP', () => {
  it('refused (not forwarded) without orgTokens.allowSoap, like a gto_ token', async () => {
    for (const key of [flagOn.keys.gto, flagOn.keys.guid, flagOn.keys.token]) {
      const res = await soapCall(key, flagOn.logins.enabled);
      expect(field(res.body, 'authKind')).toBeUndefined();
      expect(res.body).toMatch(/OrgTokenNotAllowed|<baseResult>failed<\/baseResult>|Fault/);
      expect(res.body).not.toContain(key);
    }
  });

  it('with orgTokens.allowSoap: forwarded as the acting user (auth kind org-token), the same refusals as REST', async () => {
    const soapGw = await startTestGateway({ store: ts.store, storeUrl: ts.url, overrides: { orgTokens: { allowSoap: true } } });
    try {
      for (const [kind, key] of [['guid', flagOn.keys.guid.toUpperCase()], ['token', flagOn.keys.token], ['gto', flagOn.keys.gto]] as const) {
        const ok = await soapCall(key, flagOn.logins.enabled, soapGw.url);
        expect([ok.status, field(ok.body, 'loginName'), field(ok.body, 'authKind'), field(ok.body, 'tokenId')]).toEqual([200, flagOn.logins.enabled, 'org-token', flagOn.keyIds[kind]]);
        const refused = await soapCall(key, flagOn.logins.otherOrg, soapGw.url);
        expect(field(refused.body, 'authKind')).toBeUndefined();
        expect(refused.body).toContain('ActingUserNotAllowed');
      }
      const flagless = await soapCall(flagOff.keys.guid, flagOff.logins.enabled, soapGw.url);
      expect(flagless.body).toContain('FeatureFlagMissing');
      await new Promise((r) => setTimeout(r, 20));
      for (const k of keysSeen) expect(soapGw.logs.join('\n')).not.toContain(k);
    } finally {
      await soapGw.close();
    }
  });
});

// --- settings: listed with their hint and marked imported; disabled and deleted like others ----------

describe('the settings API and the effect of changes', () => {
  it('lists them with hint and origin legacy; disable, enable and delete reach the gateway; the last GUID gone, GUIDs are malformed again', async () => {
    await givePassword(ts.store, flagOn.userIds.enabled!);
    const api = await signIn(gw.url, flagOn.logins.enabled);
    const listed = await api.call({ method: 'GET', template: '/org-tokens' });
    expect(listed.status).toBe(200);
    const tokens = listed.body.tokens as { id: string; name: string; hint: string; origin: string }[];
    expect(tokens).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: flagOn.keyIds.gto, hint: `gto_…${flagOn.keys.gto.slice(-4)}`, origin: 'minted' }),
        expect.objectContaining({ id: flagOn.keyIds.guid, name: 'ERP bridge', hint: `…${flagOn.keys.guid.slice(-4)}`, origin: 'legacy' }),
        expect.objectContaining({ id: flagOn.keyIds.token, name: 'Archive, old', hint: `…${flagOn.keys.token.slice(-4)}`, origin: 'legacy' }),
      ]),
    );
    for (const k of Object.values(flagOn.keys)) expect(listed.text).not.toContain(k.slice(0, 12));

    const status = async (key: string) => {
      const res = await rawGet('/Api/v5/envelope/1', { organizationKey: key, userLoginName: flagOn.logins.enabled });
      return [res.status, res.status === 200 ? null : JSON.parse(res.body).ErrorId];
    };
    const patch = (id: string, enabled: boolean) => api.call({ method: 'PATCH', template: '/org-tokens/{id}', path: `/org-tokens/${id}`, body: { enabled } });
    expect((await patch(flagOn.keyIds.guid!, false)).body).toMatchObject({ enabled: false, origin: 'legacy' });
    await settle();
    expect(await status(flagOn.keys.guid)).toEqual([401, 'CredentialDisabled']);
    await patch(flagOn.keyIds.guid!, true);
    await settle();
    expect(await status(flagOn.keys.guid)).toEqual([200, null]);

    // Deleting flagOn's GUID: another organization still holds one, so a GUID is still worth a look-up.
    expect((await api.call({ method: 'DELETE', template: '/org-tokens/{id}', path: `/org-tokens/${flagOn.keyIds.guid}` })).status).toBe(204);
    await settle();
    expect(await status(flagOn.keys.guid)).toEqual([401, 'CredentialUnknown']);
    expect(await status(flagOn.keys.token)).toEqual([200, null]);

    // The last imported GUID deleted (through the write module, as the CLI's delete does): the form is garbage again.
    await ts.store.admin.setOrganizationFeature(TEST_ACTOR, flagOff.name, FLAG, true);
    await orgTokens.delete(TEST_ACTOR, flagOff.logins.enabled, flagOff.keyIds.guid!);
    await ts.store.admin.setOrganizationFeature(TEST_ACTOR, flagOff.name, FLAG, false);
    await settle();
    await expectMalformedWithoutReads([flagOn.keys.guid, flagOff.keys.guid.toUpperCase()]);
    expect(await status(flagOn.keys.token)).toEqual([200, null]);
  });
});

// --- a fleet: the eviction channel carries the news, not only the change feed --------------------------------

describe('with Redis', () => {
  it("another instance learns of an import and of the last GUID's deletion through the eviction channel", async () => {
    const redis = { url: SHARED_REDIS_URL, keyPrefix: uniquePrefix('legacy-org-keys') };
    const writer = await startTestGateway({ store: ts.store, storeUrl: ts.url, overrides: { redis } });
    // Its own store handle (another process, in effect) and a change feed it reads once a minute: only the channel can tell it in time.
    const readerStore = ts.reopen();
    const reader = await startTestGateway({ store: readerStore, storeUrl: ts.url, overrides: { redis, store: { url: ts.url, changeFeedPollMs: 60_000 } } });
    const sub = new Redis(SHARED_REDIS_URL);
    try {
      await expect.poll(async () => ((await sub.pubsub('NUMSUB', `${redis.keyPrefix}evict`)) as [string, number])[1], { timeout: 5000 }).toBe(2);
      const key = guid();
      keysSeen.push(key);
      const status = async () => {
        const res = await rawRequest('GET', '/Api/v5/envelope/1', { organizationKey: key, userLoginName: flagOn.logins.enabled }, undefined, reader.url);
        return [res.status, res.status === 200 ? null : JSON.parse(res.body).ErrorId];
      };
      expect(await status()).toEqual([401, 'CredentialMalformed']); // no GUID is imported any more (previous suite)
      // Written through the writer's store handle: COMMIT → the writer publishes the keys on the channel.
      const [imported] = await orgTokens.importLegacy(TEST_ACTOR, flagOn.name, [{ line: 1, name: 'Fleet key', key }]);
      await writer.gateway.cache.evictionsSent();
      await expect.poll(status, { timeout: 2000, interval: 25 }).toEqual([200, null]);
      await orgTokens.delete(TEST_ACTOR, flagOn.logins.enabled, imported!.id);
      await writer.gateway.cache.evictionsSent();
      await expect.poll(status, { timeout: 2000, interval: 25 }).toEqual([401, 'CredentialMalformed']);
      for (const k of keysSeen) expect(reader.logs.join('\n') + writer.logs.join('\n')).not.toContain(k);
    } finally {
      sub.disconnect();
      await reader.close();
      await writer.close();
      await readerStore.close();
    }
  });
});

// --- observability and secrets ---------------------------------------------------------------------------

describe('observability and secrets', () => {
  it('the access log names the imported key by id, with auth kind org-token and the organization', async () => {
    const requestId = `legacy-key-${randomBytes(4).toString('hex')}`;
    await rawGet('/Api/v5/envelope/1', { organizationKey: flagOn.keys.token, userLoginName: flagOn.logins.enabled, 'X-Request-Id': requestId });
    await new Promise((r) => setTimeout(r, 20));
    const line = gw.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === requestId);
    expect(line).toMatchObject({ message: 'access', status: 200, authKind: 'org-token', organizationId: flagOn.id, tokenId: flagOn.keyIds.token, userId: flagOn.userIds.enabled });
  });

  it('never writes a key, in any spelling, to a log line', () => {
    const everything = gw.logs.join('\n');
    expect(everything).toContain('"message":"access"');
    expect(keysSeen.length).toBeGreaterThan(8);
    for (const k of keysSeen) {
      expect(everything).not.toContain(k);
      expect(everything).not.toContain(k.slice(0, 18));
    }
  });
});

// --- helpers -------------------------------------------------------------------------------------------

/** A request with the path sent exactly as written (fetch and supertest would normalize it). */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  base = gw.url,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ method, host: hostname, port, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const rawGet = (path: string, headers: Record<string, string>) => rawRequest('GET', path, headers);
