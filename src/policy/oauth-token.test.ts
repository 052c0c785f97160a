import { describe, expect, it } from 'vitest';
import type { GrantRecord, RoleRecord, UserRecord } from '../store/records.js';
import { judgeOAuthToken, scopeAllows } from './oauth-token.js';

const user: UserRecord = { id: 'u1', organizationId: 'o1', loginName: 'a@b.test', enabled: true, roleIds: ['r1'] };
const allow: RoleRecord = { id: 'r1', organizationId: 'o1', name: 'Integrators', permissions: { API: 'allow' } };
const deny: RoleRecord = { id: 'r2', organizationId: 'o1', name: 'Blocked', permissions: { API: 'deny' } };
const foreign: RoleRecord = { id: 'r3', organizationId: 'o2', name: 'Other', permissions: { API: 'allow' } };
const grant: GrantRecord = { id: 'g1', clientId: 'c1', userId: 'u1', revoked: false };
const claims = { sub: 'u1', client_id: 'c1', scope: 'api' };

describe('judgeOAuthToken', () => {
  it.each([
    ['allowed', {}, null],
    ['no grant', { grant: undefined }, 'AccessTokenInvalid'],
    ['a revoked grant', { grant: { ...grant, revoked: true } }, 'AccessTokenInvalid'],
    ['a grant of another user', { grant: { ...grant, userId: 'u2' } }, 'AccessTokenInvalid'],
    ['a grant of another client', { grant: { ...grant, clientId: 'c2' } }, 'AccessTokenInvalid'],
    ['no user', { user: undefined }, 'AccessTokenInvalid'],
    ['a disabled user', { user: { ...user, enabled: false } }, 'UserDisabled'],
    ['no API permission', { roles: [] }, 'PermissionDenied'],
    ['a deny wins', { roles: [allow, deny] }, 'PermissionDenied'],
    ['a role of another organization does not count', { roles: [foreign] }, 'PermissionDenied'],
    ['api:read writing envelopes', { claims: { ...claims, scope: 'api:read' } }, 'ScopeInsufficient'],
    ['api:read reading envelopes', { claims: { ...claims, scope: 'api:read' }, need: { family: 'envelope', access: 'read' } }, null],
    ['envelope:read writing envelopes', { claims: { ...claims, scope: 'envelope:read' } }, 'ScopeInsufficient'],
    ['envelope:write writing envelopes', { claims: { ...claims, scope: 'envelope:write' } }, null],
    ['template:write writing envelopes', { claims: { ...claims, scope: 'template:write' } }, 'ScopeInsufficient'],
    ['api:read outside the vocabulary', { claims: { ...claims, scope: 'api:read' }, need: undefined }, 'ScopeInsufficient'],
    ['api outside the vocabulary', { need: undefined }, null],
  ] as const)('%s', (_what, over, code) => {
    const facts = { claims, grant, user, roles: [allow], need: { family: 'envelope', access: 'write' }, ...over } as Parameters<typeof judgeOAuthToken>[0];
    expect(judgeOAuthToken(facts)?.code ?? null).toBe(code);
  });
});

describe('scopeAllows', () => {
  const read = { family: 'template', access: 'read' } as const;
  const write = { family: 'template', access: 'write' } as const;
  it.each([
    ['api', write, true],
    ['api', read, true],
    ['api', undefined, true],
    ['api:read', read, true],
    ['api:read', write, false],
    ['api:read', 'any-token', true],
    ['api:read template:write', write, true],
    ['template:read envelope:write', write, false],
    ['template:read envelope:write', read, true],
    ['', read, false],
    ['', 'any-token', true],
    ['other', read, false],
  ] as const)('%s may %o: %s', (scope, need, allowed) => {
    expect(scopeAllows(scope, need)).toBe(allowed);
  });
});
