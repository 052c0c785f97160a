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
    ['api:read on POST', { claims: { ...claims, scope: 'api:read' } }, 'ScopeInsufficient'],
    ['api:read on GET', { claims: { ...claims, scope: 'api:read' }, method: 'GET' }, null],
  ] as const)('%s', (_what, over, code) => {
    const facts = { claims, grant, user, roles: [allow], method: 'POST', ...over } as Parameters<typeof judgeOAuthToken>[0];
    expect(judgeOAuthToken(facts)?.code ?? null).toBe(code);
  });
});

describe('scopeAllows', () => {
  it.each([
    ['api', 'POST', true],
    ['api', 'GET', true],
    ['api:read', 'GET', true],
    ['api:read', 'head', true],
    ['api:read', 'POST', false],
    ['api:read', 'DELETE', false],
    ['', 'GET', false],
    ['other', 'GET', false],
  ])('%s may %s: %s', (scope, method, allowed) => {
    expect(scopeAllows(scope, method)).toBe(allowed);
  });
});
