import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readContract } from '../soap/contract.js';
import { DOCUMENTED_RESOURCES, PUBLIC_RESOURCE } from '../proxy/routes.js';
import { REST_RESOURCE_FAMILIES, restNeed } from './rest-map.js';
import { addressInNetworks, canonicalNetwork, checkRestrictions, describeRestrictions } from './restrictions.js';
import { SOAP_OPERATION_NEEDS, soapOperationNeed } from './soap-map.js';
import { ALL_GRANTS, describeGrants, describeScope, grantsAllow, grantsOf, grantsOfScope, permissionNames, PERMISSIONS } from './vocabulary.js';

const need = (family: string, access: string) => ({ family, access });

describe('the vocabulary covers the platform', () => {
  it('every operation of the bundled WSDL needs a permission, or is public (no credential parameter)', () => {
    const contract = readContract(readFileSync(new URL('../../wsdl/Api.wsdl', import.meta.url), 'utf8'));
    const unmapped = [...contract.operations.values()].filter((op) => op.credentialParameter && !op.need).map((op) => op.name);
    expect(unmapped).toEqual([]);
    // …and the table names no operation the WSDL lacks (a typo would fail closed silently)
    expect(Object.keys(SOAP_OPERATION_NEEDS).filter((name) => !contract.operations.has(name))).toEqual([]);
    expect(contract.operations.get('GetVersion_v1')).toMatchObject({ credentialParameter: undefined, need: undefined });
  });

  it('every documented REST resource has a family (the public version call needs none)', () => {
    expect(DOCUMENTED_RESOURCES.filter((r) => r !== PUBLIC_RESOURCE && !Object.hasOwn(REST_RESOURCE_FAMILIES, r))).toEqual([]);
  });
});

describe('restNeed', () => {
  it.each([
    ['GET', 'envelope', '/1', need('envelope', 'read')],
    ['HEAD', 'envelope', '/1', need('envelope', 'read')],
    ['POST', 'envelope', '/send', need('envelope', 'write')],
    ['POST', 'envelope', '/find', need('envelope', 'read')],
    ['POST', 'envelopebulk', '/find/', need('envelope', 'read')],
    ['POST', 'template', '/FIND', need('template', 'read')],
    ['POST', 'template', '/createdraft', need('template', 'write')],
    ['DELETE', 'envelope', '/1', need('envelope', 'write')],
    ['PATCH', 'user', '/u1', need('user', 'write')],
    ['PUT', 'recipient', '/r1/fromEnvelope/e1', need('envelope', 'write')],
    ['POST', 'sspfile', '/uploadtemporary', need('file', 'write')],
    ['GET', 'license', '', need('organization', 'read')],
    ['GET', 'team', '', need('user', 'read')],
    // v4/v5 change envelopes with GETs
    ['GET', 'envelope', '/e1/cancel', need('envelope', 'write')],
    ['GET', 'envelope', '/e1/Remind', need('envelope', 'write')],
    ['GET', 'envelope', '/e1/restart/30', need('envelope', 'write')],
    ['GET', 'envelope', '/t1/copyFromTemplate', need('envelope', 'write')],
    ['GET', 'envelope', '/cancelled-list', need('envelope', 'read')],
    // the credential check
    ['GET', 'authorization', '', 'any-token'],
    ['GET', 'authorization', '/whoami', 'any-token'],
    ['POST', 'authorization', '', undefined],
    // outside the vocabulary
    ['GET', 'other', '/1', undefined],
    ['GET', 'made-up', '/1', undefined],
    ['OPTIONS', 'envelope', '/1', undefined],
    ['TRACE', 'envelope', '/1', undefined],
  ])('%s %s%s', (method, resource, rest, expected) => {
    expect(restNeed(method, resource, rest)).toEqual(expected);
  });
});

describe('soapOperationNeed', () => {
  it.each([
    ['GetEnvelopeById_v1', need('envelope', 'read')],
    ['SendEnvelope_v1', need('envelope', 'write')],
    ['UploadTemporarySspFile_v1', need('file', 'write')],
    ['CreateDraftFromTemplate_v1', need('draft', 'write')],
    ['ValidateAuthorization_v1', 'any-token'],
    ['toString', undefined],
    ['NoSuchOperation_v9', undefined],
  ])('%s', (op, expected) => expect(soapOperationNeed(op)).toEqual(expected));
});

describe('grants', () => {
  it('write implies read; read does not imply write', () => {
    const g = grantsOf(['envelope:write', 'template:read']);
    expect(grantsAllow(g, need('envelope', 'read') as never)).toBe(true);
    expect(grantsAllow(g, need('envelope', 'write') as never)).toBe(true);
    expect(grantsAllow(g, need('template', 'read') as never)).toBe(true);
    expect(grantsAllow(g, need('template', 'write') as never)).toBe(false);
    expect(grantsAllow(g, need('draft', 'read') as never)).toBe(false);
    expect(grantsAllow(g, 'any-token')).toBe(true);
  });

  it('OAuth scopes: api is everything, api:read every family read, permission names add up', () => {
    expect(grantsOfScope('api')).toBe(ALL_GRANTS);
    expect(permissionNames(grantsOfScope('api:read'))).toEqual(PERMISSIONS.filter((p) => p.endsWith(':read')));
    expect(grantsOfScope('api:read template:write')).toMatchObject({ template: 'write', envelope: 'read' });
    expect(grantsOfScope('envelope:read nonsense')).toEqual({ envelope: 'read' });
    expect(grantsOfScope('')).toEqual({});
  });

  it('in words', () => {
    expect(describeGrants(ALL_GRANTS)).toBe('Everything');
    expect(describeGrants({})).toBe('Nothing');
    expect(describeGrants(grantsOf(['envelope:read', 'template:read']))).toBe('Read envelopes and templates');
    expect(describeGrants(grantsOf(['envelope:read', 'template:write', 'draft:write']))).toBe('Read envelopes · Read and write templates and drafts');
    expect(describeScope('api:read')).toBe('Read envelopes, templates, drafts, files, the organization and users and teams');
  });
});

describe('networks', () => {
  it.each([
    ['203.0.113.7/24', '203.0.113.0/24'],
    ['203.0.113.7', '203.0.113.7/32'],
    [' 10.0.0.0/8 ', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0:0:0:0:0:1/32', '2001:db8::/32'],
    ['2001:db8::1', '2001:db8::1/128'],
    ['::/0', '::/0'],
    ['::ffff:203.0.113.9/120', '203.0.113.0/24'],
    ['::ffff:203.0.113.9', '203.0.113.9/32'],
  ])('%s is %s', (text, canonical) => {
    expect(canonicalNetwork(text)).toEqual({ ok: true, value: canonical });
  });

  it.each(['203.0.113.0/33', '2001:db8::/129', '203.0.113.0/', '203.0.113.0/x', '127.1', '010.0.0.1', 'example.com', '1.2.3.4/24/1', ''])('%s is refused', (text) => {
    expect(canonicalNetwork(text).ok).toBe(false);
  });

  it.each([
    ['203.0.113.0', ['203.0.113.0/24'], true],
    ['203.0.113.255', ['203.0.113.0/24'], true],
    ['203.0.114.0', ['203.0.113.0/24'], false],
    ['203.0.112.255', ['203.0.113.0/24'], false],
    ['::ffff:203.0.113.5', ['203.0.113.0/24'], true],
    ['::ffff:203.0.114.5', ['203.0.113.0/24'], false],
    ['2001:db8:ffff::1', ['2001:db8::/32'], true],
    ['2001:db9::1', ['2001:db8::/32'], false],
    ['203.0.113.5', ['2001:db8::/32'], false],
    ['2001:db8::1', ['203.0.113.0/24'], false],
    ['127.0.0.1', ['0.0.0.0/0'], true],
    ['::1', ['0.0.0.0/0'], false],
    ['::1', ['::1/128', '10.0.0.0/8'], true],
    ['not-an-ip', ['0.0.0.0/0', '::/0'], false],
  ])('%s in %j: %s', (ip, networks, inside) => {
    const canonical = networks.map((n) => (canonicalNetwork(n) as { value: string }).value);
    expect(addressInNetworks(ip, canonical)).toBe(inside);
  });
});

describe('network verdicts kept per list', () => {
  it('answer the same the second time, and past the bound on kept verdicts', () => {
    const networks = ['10.0.0.0/16'];
    const verdicts = (): boolean[] => Array.from({ length: 3000 }, (_, i) => addressInNetworks(`10.0.${i % 256}.${Math.floor(i / 256)}`, networks));
    const first = verdicts();
    expect(first.filter(Boolean)).toHaveLength(3000);
    expect(verdicts()).toEqual(first);
    expect(addressInNetworks('10.1.0.1', networks)).toBe(false);
    expect(addressInNetworks('10.1.0.1', networks)).toBe(false);
    expect(addressInNetworks('::ffff:10.0.0.1', networks)).toBe(true);
  });
});

describe('checkRestrictions', () => {
  it('normalizes: write covers read, networks canonical and unique, empty = none', () => {
    expect(checkRestrictions({ permissions: ['template:read', 'envelope:read', 'envelope:write'], networks: ['10.1.2.3/8', '10.0.0.0/8'], maxVersion: 5 })).toEqual({
      ok: true,
      value: { permissions: ['envelope:write', 'template:read'], networks: ['10.0.0.0/8'], maxVersion: 5 },
    });
    expect(checkRestrictions({})).toEqual({ ok: true, value: null });
    expect(checkRestrictions(null)).toEqual({ ok: true, value: null });
    expect(checkRestrictions({ permissions: [] })).toEqual({ ok: true, value: { permissions: [] } });
  });

  it.each([
    [{ permissions: ['envelope:admin'] }, 'unknown permission "envelope:admin"'],
    [{ permissions: ['API'] }, 'unknown permission'],
    [{ permissions: 'envelope:read' }, 'must be a list'],
    [{ networks: ['300.0.0.0/8'] }, 'not an IPv4 or IPv6'],
    [{ networks: [] }, 'empty list of networks'],
    [{ networks: Array.from({ length: 51 }, (_, i) => `10.0.${i}.0/24`) }, 'at most 50'],
    [{ maxVersion: 0 }, 'from 1 to 6'],
    [{ maxVersion: 7 }, 'from 1 to 6'],
    [{ maxVersion: 5.5 }, 'from 1 to 6'],
  ])('%j is refused: %s', (input, message) => {
    const checked = checkRestrictions(input as never);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.message).toContain(message);
  });

  it('in words', () => {
    expect(describeRestrictions(null)).toBe('Everything its user may do');
    expect(describeRestrictions({ permissions: ['envelope:read', 'template:read'], networks: ['203.0.113.0/24'] })).toBe('Read envelopes and templates · from 203.0.113.0/24');
    expect(describeRestrictions({ maxVersion: 5 })).toBe('Everything its user may do · API v5 and earlier');
  });
});
