import { describe, expect, it } from 'vitest';
import type { TokenRestrictions } from '../permissions/restrictions.js';
import type { Need } from '../permissions/vocabulary.js';
import { judgeTokenRestrictions } from './token-restrictions.js';

const envRead: Need = { family: 'envelope', access: 'read' };
const envWrite: Need = { family: 'envelope', access: 'write' };
const tplRead: Need = { family: 'template', access: 'read' };

describe('judgeTokenRestrictions', () => {
  it.each<[string, TokenRestrictions | null, Need | undefined, number | 'soap', string, string | null]>([
    ['no restrictions: anything, even outside the vocabulary', null, undefined, 6, '198.51.100.1', null],
    ['permission granted', { permissions: ['envelope:read'] }, envRead, 6, '198.51.100.1', null],
    ['write implies read', { permissions: ['envelope:write'] }, envRead, 6, '198.51.100.1', null],
    ['read does not imply write', { permissions: ['envelope:read'] }, envWrite, 6, '198.51.100.1', 'envelope:write'],
    ['another family', { permissions: ['envelope:write'] }, tplRead, 6, '198.51.100.1', 'template:read'],
    ['no permission at all', { permissions: [] }, envRead, 6, '198.51.100.1', 'envelope:read'],
    ['the credential check needs only a valid token', { permissions: [] }, 'any-token', 6, '198.51.100.1', null],
    ['outside the vocabulary: fail closed', { permissions: ['envelope:write'] }, undefined, 6, '198.51.100.1', 'unmapped'],
    ['only networks: outside the vocabulary is fine', { networks: ['198.51.100.0/24'] }, undefined, 6, '198.51.100.1', null],
    ['inside the network', { networks: ['198.51.100.0/24'] }, envRead, 6, '198.51.100.255', null],
    ['outside the network', { networks: ['198.51.100.0/24'] }, envRead, 6, '198.51.101.0', 'network'],
    ['v4-mapped client inside', { networks: ['198.51.100.0/24'] }, envRead, 6, '::ffff:198.51.100.9', null],
    ['IPv6 client, IPv4 network', { networks: ['198.51.100.0/24'] }, envRead, 6, '2001:db8::1', 'network'],
    ['IPv6 inside', { networks: ['2001:db8::/32'] }, envRead, 6, '2001:db8::1', null],
    ['version at the ceiling', { maxVersion: 5 }, envRead, 5, '198.51.100.1', null],
    ['version past the ceiling', { maxVersion: 5 }, envRead, 6, '198.51.100.1', 'version'],
    ['SOAP has no version line', { maxVersion: 1 }, envRead, 'soap', '198.51.100.1', null],
    ['network is judged first', { networks: ['10.0.0.0/8'], maxVersion: 1, permissions: [] }, envWrite, 6, '198.51.100.1', 'network'],
    ['then the version', { networks: ['198.51.100.0/24'], maxVersion: 1, permissions: [] }, envWrite, 6, '198.51.100.1', 'version'],
  ])('%s', (_what, restrictions, need, version, ip, refused) => {
    const err = judgeTokenRestrictions(restrictions, need, version, ip);
    expect(err?.restriction ?? null).toBe(refused);
    if (err) {
      expect([err.code, err.status]).toEqual(['TokenRestricted', 403]);
      if (refused !== 'network' && refused !== 'version' && refused !== 'unmapped') expect(err.message).toContain(refused);
    }
  });
});
