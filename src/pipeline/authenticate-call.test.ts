// The authenticated-call step on its own, over a real store (SQLite in memory): its order — blocked
// before any look-up, a refusal counted, a store failure 503 and logged with the request id — and
// what it leaves behind on success: the request context, "last used" from the client address, the
// signed identity. The surfaces' own suites (test/integration) show the same through HTTP.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { L1Cache } from '../cache/l1.js';
import { RecordReader } from '../cache/record-reader.js';
import { TieredResolver } from '../cache/resolver.js';
import type { Principal } from '../credentials/principal.js';
import type { RequestContext } from '../observability/access-log.js';
import { createLogger } from '../observability/logger.js';
import { OrgTokenLoginMissing, type GatehouseError } from '../outcomes/errors.js';
import { openStore, type Store } from '../store/index.js';
import { mintToken } from '../tokens/token-format.js';
import { createAbuseLimits } from './abuse.js';
import { authenticateCall, type PresentedCall } from './authenticate-call.js';
import { deprecationHeaders } from './deprecation.js';

const ACTOR = { actor: 'test', source: 'test' };
const CLIENT = '203.0.113.5';
let store: Store;
let secret: string;
let ids: { tokenId: string; userId: string; organizationId: string };

beforeAll(async () => {
  store = openStore('sqlite::memory:');
  await store.migrate();
  await store.admin.createOrganization(ACTOR, 'Acme');
  await store.admin.createRole(ACTOR, 'Acme', 'Integrators', ['API'], []);
  const user = await store.admin.createUser(ACTOR, 'Acme', 'ada@acme.test', ['Integrators']);
  const created = await store.admin.createApiToken(ACTOR, 'ada@acme.test', 'A', { enabled: true });
  secret = created.secret;
  ids = { tokenId: created.token.id, userId: user.id, organizationId: user.organizationId };
});
afterAll(() => store.close());

/** A step over fresh cache tiers and abuse limits (two failed guesses per address), with what it did recorded. */
function step() {
  const logs: string[] = [];
  const uses: [Principal, string][] = [];
  const reads = vi.fn();
  const readModel = new Proxy(store.gateway, {
    get: (target, op, receiver) => {
      const value = Reflect.get(target, op, receiver) as unknown;
      return typeof value === 'function' ? (...args: unknown[]) => (reads(op), (value as (...a: unknown[]) => unknown).apply(target, args)) : value;
    },
  });
  const records = new RecordReader(new TieredResolver(new L1Cache({ maxEntries: 100, ttlMs: 60_000, negativeTtlMs: 60_000 })), readModel);
  const authenticate = authenticateCall({
    records,
    verifyAccessToken: () => ({ ok: false, reason: 'invalid' }),
    abuse: createAbuseLimits({ failuresPerIp: 2, failuresPerToken: 0, windowSeconds: 60, tokenRequestsPerSecond: 0, keyPrefix: 'unit:' }),
    clientIp: () => CLIENT,
    recordUse: (p, ip) => uses.push([p, ip]),
    signIdentity: (p) => `identity-of-${p.userId}`,
    orgTokenDeprecation: deprecationHeaders({ deprecatedSince: '2026-01-01T00:00:00Z', sunset: '2027-01-01T00:00:00Z', migrationDocsUrl: 'https://example.test/migrate' }),
    logger: createLogger({ level: 'debug', stream: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) }),
  });
  const call = async (presented: PresentedCall, requestId = 'req-1') => {
    const headers: Record<string, unknown> = {};
    const res = { setHeader: (name: string, value: unknown) => (headers[name] = value) } as unknown as ServerResponse;
    const ctx: RequestContext = { requestId, startedAt: 0, surface: 'rest' };
    const req = { method: 'GET', headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
    const outcome = await authenticate(req, res, ctx, presented);
    return { outcome, ctx, headers };
  };
  return { call, logs, uses, reads };
}

const apiToken = (token: string): PresentedCall => ({ kind: 'api-token', token, loginName: undefined, hint: token, version: 6 });
const codeOf = (o: string | GatehouseError) => (typeof o === 'string' ? o : o.code);

describe('authenticateCall', () => {
  it('a valid token: the signed identity, the request context filled, "last used" from the client address', async () => {
    const s = step();
    const { outcome, ctx, headers } = await s.call(apiToken(secret));
    expect(outcome).toBe(`identity-of-${ids.userId}`);
    expect(ctx).toMatchObject({ credentialKind: 'api-token', authKind: 'api-token', ...ids, cacheTier: 'store' });
    expect(s.uses.map(([p, ip]) => [p.tokenId, ip])).toEqual([[ids.tokenId, CLIENT]]);
    expect(headers).toEqual({});
    expect((await s.call(apiToken(secret))).ctx.cacheTier).toBe('l1');
  });

  it('counts failed guesses per address, then refuses before any look-up, even a valid token', async () => {
    const s = step();
    for (let i = 0; i < 2; i++) expect(codeOf((await s.call(apiToken(mintToken('user')))).outcome)).toBe('CredentialUnknown');
    const readsSoFar = s.reads.mock.calls.length;
    const { outcome, ctx } = await s.call(apiToken(secret));
    expect(codeOf(outcome)).toBe('TooManyFailedAttempts');
    expect(s.reads.mock.calls.length).toBe(readsSoFar);
    expect(ctx.tokenId).toBeUndefined();
    expect(s.uses).toEqual([]);
  });

  it('a store that fails to answer is StoreUnavailable (never 401), logged with the request id, and no failed guess', async () => {
    const s = step();
    const failing = vi.spyOn(store.gateway, 'findApiTokenByHash').mockRejectedValue(new Error('connection refused'));
    try {
      for (let i = 0; i < 3; i++) expect(codeOf((await s.call(apiToken(mintToken('user')), `req-down-${i}`)).outcome)).toBe('StoreUnavailable');
    } finally {
      failing.mockRestore();
    }
    expect(s.logs.some((l) => l.includes('store read failed') && l.includes('req-down-0'))).toBe(true);
    expect(codeOf((await s.call(apiToken(secret))).outcome)).toBe(`identity-of-${ids.userId}`);
  });

  it('an organization-token call is marked deprecated and known as one even when refused', async () => {
    const s = step();
    const { outcome, ctx, headers } = await s.call({ kind: 'org-token', token: new OrgTokenLoginMissing(), hint: 'gto_x', version: 5 });
    expect(codeOf(outcome)).toBe('OrgTokenLoginMissing');
    expect(ctx).toMatchObject({ credentialKind: 'org-token', authKind: 'org-token' });
    expect(Object.keys(headers).sort()).toEqual(['Deprecation', 'Link', 'Sunset']);
    expect(s.reads).not.toHaveBeenCalled();
  });
});
