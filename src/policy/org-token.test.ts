import { describe, expect, it } from 'vitest';
import type { OrgApiTokenRecord, OrganizationRecord, RoleRecord, UserRecord } from '../store/records.js';
import { judgeActingUser, judgeOrgTokenCall, judgeOrgTokenManagement } from './org-token.js';

const token = (over: Partial<OrgApiTokenRecord> = {}): OrgApiTokenRecord => ({ id: 'ot1', organizationId: 'o1', name: 'Legacy', hint: 'gto_…abcd', enabled: true, ...over });
const org = (flags: string[] = ['OrganizationApiToken'], id = 'o1'): OrganizationRecord => ({ id, name: 'Acme', featureFlags: flags });
const user = (over: Partial<UserRecord> = {}): UserRecord => ({ id: 'u1', organizationId: 'o1', loginName: 'a@x.test', enabled: true, roleIds: [], ...over });
const role = (permissions: RoleRecord['permissions'], organizationId = 'o1'): RoleRecord => ({ id: Math.random().toString(36), organizationId, name: 'r', permissions });
const allow = role({ API: 'allow' });
const deny = role({ API: 'deny' });
const none = role({});

describe('judgeOrgTokenCall: token, version fence, feature flag', () => {
  it.each<[string, Parameters<typeof judgeOrgTokenCall>[0], string | null]>([
    ['v1, flag on', { token: token(), organization: org(), version: 1 }, null],
    ['v5, flag on', { token: token(), organization: org(), version: 5 }, null],
    ['v6 → use a user token', { token: token(), organization: org(), version: 6 }, 'VersionNotAllowed'],
    ['v0', { token: token(), organization: org(), version: 0 }, 'VersionNotAllowed'],
    ['v7', { token: token(), organization: org(), version: 7 }, 'VersionNotAllowed'],
    ['fractional version', { token: token(), organization: org(), version: 4.5 }, 'VersionNotAllowed'],
    ['flag off', { token: token(), organization: org([]), version: 5 }, 'FeatureFlagMissing'],
    ['flag off and v6: the version fence speaks first', { token: token(), organization: org([]), version: 6 }, 'VersionNotAllowed'],
    ['another flag only', { token: token(), organization: org(['Other']), version: 3 }, 'FeatureFlagMissing'],
    ['disabled token', { token: token({ enabled: false }), organization: org(), version: 5 }, 'CredentialDisabled'],
    ['disabled token at v6: 401 before 403', { token: token({ enabled: false }), organization: org(), version: 6 }, 'CredentialDisabled'],
    ['organization gone', { token: token(), organization: undefined, version: 5 }, 'CredentialUnknown'],
    ['organization mismatch (never happens; refuse anyway)', { token: token(), organization: org(undefined, 'o2'), version: 5 }, 'CredentialUnknown'],
  ])('%s', (_name, facts, expected) => {
    expect(judgeOrgTokenCall(facts)?.code ?? null).toBe(expected);
  });
});

describe('judgeActingUser: the user named by userLoginName', () => {
  it.each<[string, Parameters<typeof judgeActingUser>[0], string | null]>([
    ['enabled, allowed', { organizationId: 'o1', user: user(), roles: [allow] }, null],
    ['allowed plus a silent role', { organizationId: 'o1', user: user(), roles: [none, allow] }, null],
    ['unknown login', { organizationId: 'o1', user: undefined, roles: [] }, 'ActingUserNotAllowed'],
    ['user of another organization', { organizationId: 'o1', user: user({ organizationId: 'o2' }), roles: [role({ API: 'allow' }, 'o2')] }, 'ActingUserNotAllowed'],
    ['disabled', { organizationId: 'o1', user: user({ enabled: false }), roles: [allow] }, 'ActingUserDisabled'],
    ['no role', { organizationId: 'o1', user: user(), roles: [] }, 'PermissionDenied'],
    ['role without API', { organizationId: 'o1', user: user(), roles: [none] }, 'PermissionDenied'],
    ['allowed by one role, denied by another', { organizationId: 'o1', user: user(), roles: [allow, deny] }, 'PermissionDenied'],
    ['allow from a role of another organization', { organizationId: 'o1', user: user(), roles: [role({ API: 'allow' }, 'o2')] }, 'PermissionDenied'],
  ])('%s', (_name, facts, expected) => {
    expect(judgeActingUser(facts)?.code ?? null).toBe(expected);
  });

  it('answers an unknown and a foreign user with the same status and message', () => {
    const a = judgeActingUser({ organizationId: 'o1', user: undefined, roles: [] })!;
    const b = judgeActingUser({ organizationId: 'o1', user: user({ organizationId: 'o2' }), roles: [] })!;
    expect([a.status, a.code, a.message]).toEqual([b.status, b.code, b.message]);
  });
});

describe('judgeOrgTokenManagement', () => {
  it.each<[string, Parameters<typeof judgeOrgTokenManagement>[0], string | null]>([
    ['allowed, flag on', { user: user(), organization: org(), roles: [allow] }, null],
    ['flag off', { user: user(), organization: org([]), roles: [allow] }, 'feature-disabled'],
    ['blocked by another role', { user: user(), organization: org(), roles: [allow, deny] }, 'permission-blocked'],
    ['denied only', { user: user(), organization: org(), roles: [deny] }, 'permission-blocked'],
    ['not granted', { user: user(), organization: org(), roles: [none] }, 'permission-missing'],
    ['disabled user', { user: user({ enabled: false }), organization: org(), roles: [allow] }, 'user-disabled'],
  ])('%s', (_name, facts, expected) => {
    const v = judgeOrgTokenManagement(facts);
    expect(v.allowed ? null : v.reason).toBe(expected);
  });
});
