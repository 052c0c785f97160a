import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../outcomes/errors.js';
import { extractRestCredential } from './extract-rest.js';

const T = 'gtu_' + 'a'.repeat(36);
const U = 'gtu_' + 'b'.repeat(36);

describe('extractRestCredential', () => {
  it.each([
    [{ apitoken: T }, { carrier: 'apiToken', secret: T }],
    [{ apitoken: ` ${T} ` }, { carrier: 'apiToken', secret: T }],
    [{ authorization: `Bearer ${T}` }, { carrier: 'bearer', secret: T }],
    [{ authorization: `bearer   ${T}` }, { carrier: 'bearer', secret: T }],
    [{ apitoken: T, authorization: `Bearer ${T}` }, { carrier: 'apiToken', secret: T }],
    [{ apitoken: `${T}, ${T}` }, { carrier: 'apiToken', secret: T }],
  ])('%j', (headers, expected) => {
    expect(extractRestCredential(headers)).toEqual(expected);
  });

  it.each([
    [{}, 'CredentialMissing'],
    [{ authorization: `Basic ${T}` }, 'CredentialMissing'],
    [{ apitoken: T, authorization: `Bearer ${U}` }, 'CredentialConflict'],
    [{ apitoken: `${T}, ${U}` }, 'CredentialConflict'],
  ])('%j → %s', (headers, code) => {
    const r = extractRestCredential(headers);
    expect(r).toBeInstanceOf(GatehouseError);
    expect((r as GatehouseError).code).toBe(code);
  });
});
