import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../pipeline/errors.js';
import { extractRestCredential } from './extract-rest.js';
import { extractOrgToken } from './org-token.js';

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
