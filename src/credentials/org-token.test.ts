import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { L1Cache } from '../cache/l1.js';
import { LegacyOrgKeyForms } from '../cache/legacy-org-keys.js';
import { RecordReader } from '../cache/record-reader.js';
import { TieredResolver } from '../cache/resolver.js';
import { GatehouseError } from '../outcomes/errors.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { extractRestCredential } from './extract-rest.js';
import { authenticateOrgToken, extractOrgToken, type OrgTokenOutcome } from './org-token.js';
import { hashToken, mintToken, type LegacyOrgKeyForm } from '../tokens/token-format.js';

const O = 'gto_' + 'a'.repeat(36);
const O2 = 'gto_' + 'b'.repeat(36);
const U = 'gtu_' + 'c'.repeat(36);
const L = 'a@x.test';
const extract = (h: IncomingHttpHeaders) => extractOrgToken(h, extractRestCredential(h));

describe('extractOrgToken', () => {
  it.each<[IncomingHttpHeaders, unknown]>([
    [{ organizationkey: O, userloginname: L }, { carrier: 'organizationKey', secret: O, loginName: L }],
    [{ organizationkey: ` ${O} `, userloginname: ` ${L} ` }, { carrier: 'organizationKey', secret: O, loginName: L }],
    [{ apitoken: O, userloginname: L }, { carrier: 'apiToken', secret: O, loginName: L }],
    [{ authorization: `Bearer ${O}`, userloginname: L }, { carrier: 'bearer', secret: O, loginName: L }],
    [{ organizationkey: O, apitoken: O, userloginname: L }, { carrier: 'organizationKey', secret: O, loginName: L }],
    [{ organizationkey: `${O}, ${O}`, userloginname: `${L}, ${L}` }, { carrier: 'organizationKey', secret: O, loginName: L }],
  ])('%j', (headers, expected) => {
    expect(extract(headers)).toEqual(expected);
  });

  // { apiToken: gto_, Bearer: gtu_ } carries two different tokens: the shared path answers 400 CredentialConflict.
  it.each<[IncomingHttpHeaders]>([[{ apitoken: U }], [{ apitoken: U, userloginname: L }], [{ apitoken: O, authorization: `Bearer ${U}`, userloginname: L }], [{ authorization: `Bearer ${U}` }], [{}], [{ userloginname: L }]])(
    '%j is not an org-token call',
    (headers) => {
      expect(extract(headers)).toBeUndefined();
    },
  );

  it.each<[IncomingHttpHeaders, string]>([
    [{ organizationkey: O }, 'OrgTokenLoginMissing'],
    [{ organizationkey: O, userloginname: '  ' }, 'OrgTokenLoginMissing'],
    [{ apitoken: O }, 'OrgTokenLoginMissing'],
    [{ authorization: `Bearer ${O}` }, 'OrgTokenLoginMissing'],
    [{ organizationkey: O, apitoken: U, userloginname: L }, 'CredentialConflict'],
    [{ organizationkey: O, authorization: `Bearer ${O2}`, userloginname: L }, 'CredentialConflict'],
    [{ organizationkey: `${O}, ${O2}`, userloginname: L }, 'CredentialConflict'],
    [{ organizationkey: O, userloginname: `${L}, b@x.test` }, 'CredentialConflict'],
  ])('%j → %s', (headers, code) => {
    const r = extract(headers);
    expect(r).toBeInstanceOf(GatehouseError);
    expect((r as GatehouseError).code).toBe(code);
    expect((r as GatehouseError).message).not.toContain(O);
  });
});

describe('authenticateOrgToken: legacy organization keys', () => {
  const GUID = 'a1b2c3d4-e5f6-4789-9abc-def012345678';
  const TOKEN64 = 'k9'.repeat(32);

  /** A record reader over an L1 and a store that only record what they were asked. */
  function recordsWith(imported: LegacyOrgKeyForm[]) {
    const reads: { op: string; args: unknown[] }[] = [];
    const store = new Proxy({} as GatewayStore, {
      get: (_t, op) => async (...args: unknown[]) => {
        reads.push({ op: String(op), args });
        return op === 'legacyOrgKeyForms' ? imported : undefined;
      },
    });
    const l1 = new L1Cache({ maxEntries: 100, ttlMs: 60_000, negativeTtlMs: 60_000 });
    const l1Reads = vi.spyOn(l1, 'get');
    const forms = new LegacyOrgKeyForms(() => store.legacyOrgKeyForms());
    const records = new RecordReader(new TieredResolver(l1), store, forms);
    const call = (secret: string) => authenticateOrgToken({ carrier: 'organizationKey', secret, loginName: L }, 5, records);
    return { reads, l1Reads, forms, call };
  }
  const codeOf = (o: OrgTokenOutcome) => (o.result as GatehouseError).code;

  it.each([GUID, GUID.toUpperCase(), TOKEN64])('%s with no legacy key imported: malformed, no cache or store read', async (key) => {
    const r = recordsWith([]);
    await r.forms.refresh();
    r.reads.length = 0;
    expect(codeOf(await r.call(key))).toBe('CredentialMalformed');
    expect(r.reads).toEqual([]);
    expect(r.l1Reads).not.toHaveBeenCalled();
  });

  it('a GUID while only the 64-character form is imported: still malformed with no read', async () => {
    const r = recordsWith(['token']);
    await r.forms.refresh();
    r.reads.length = 0;
    expect(codeOf(await r.call(GUID))).toBe('CredentialMalformed');
    expect(r.reads).toEqual([]);
    expect(codeOf(await r.call(TOKEN64))).toBe('CredentialUnknown');
    expect(r.reads).toEqual([{ op: 'findOrgTokenByHash', args: [hashToken(TOKEN64)] }]);
  });

  it('a GUID in any case is looked up by the hash of its lower-case spelling', async () => {
    const r = recordsWith(['guid']);
    await r.forms.refresh();
    r.reads.length = 0;
    expect(codeOf(await r.call('A1B2C3D4-E5F6-4789-9ABC-DEF012345678'))).toBe('CredentialUnknown');
    expect(codeOf(await r.call(GUID))).toBe('CredentialUnknown'); // the same key: cached as absent
    expect(r.reads).toEqual([{ op: 'findOrgTokenByHash', args: [hashToken(GUID)] }]);
  });

  it('garbage and user tokens cost no read even with every form imported', async () => {
    const r = recordsWith(['guid', 'token']);
    await r.forms.refresh();
    r.reads.length = 0;
    for (const key of ['nonsense', `{${GUID}}`, 'x'.repeat(5000), TOKEN64.toUpperCase()]) expect(codeOf(await r.call(key))).toBe('CredentialMalformed');
    expect(codeOf(await r.call(mintToken('user')))).toBe('CredentialUnknown');
    expect(r.reads).toEqual([]);
  });
});
