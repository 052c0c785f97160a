import { describe, expect, it } from 'vitest';
import type { RoleRecord } from '../store/records.js';
import { orgTokenSection } from './sections.js';

const role = (name: string, api?: 'allow' | 'deny'): RoleRecord => ({ id: name, organizationId: 'o', name, permissions: api ? { API: api } : {} });
const org = (flags: string[]) => ({ id: 'o', name: 'Org', featureFlags: flags });

describe('the organization API tokens section', () => {
  it.each([
    ['hidden without the flag', org([]), [role('Integrators', 'allow')], { visible: false, enabled: false, reason: null }],
    ['enabled with the flag and the API permission', org(['OrganizationApiToken']), [role('Integrators', 'allow')], { visible: true, enabled: true, reason: null }],
    [
      'disabled, naming the role, when a role denies API (a deny wins)',
      org(['OrganizationApiToken']),
      [role('Integrators', 'allow'), role('Blocked', 'deny')],
      { visible: true, enabled: false, reason: expect.stringContaining('"Blocked" denies the API permission') },
    ],
    [
      'disabled when no role grants API',
      org(['OrganizationApiToken']),
      [role('Plain')],
      { visible: true, enabled: false, reason: expect.stringContaining('None of your roles grants') },
    ],
  ])('is %s', (_what, o, roles, expected) => {
    expect(orgTokenSection(o, roles)).toMatchObject(expected);
  });
});
