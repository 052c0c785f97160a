import { describe, expect, it } from 'vitest';
import type { ApiTokenRecord, RoleRecord, UserRecord } from '../store/records.js';
import { judgeUserToken } from './user-token.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const token = (over: Partial<ApiTokenRecord> = {}): ApiTokenRecord => ({
  id: 't1', userId: 'u1', name: 'A', hint: 'gtu_…abcd', origin: 'minted', enabled: true, expiresAt: null, ...over,
});
const user = (over: Partial<UserRecord> = {}): UserRecord => ({
  id: 'u1', organizationId: 'o1', loginName: 'a@x.test', enabled: true, roleIds: [], ...over,
});
const role = (permissions: RoleRecord['permissions'], organizationId = 'o1'): RoleRecord => ({
  id: Math.random().toString(36), organizationId, name: 'r', permissions,
});
const allow = role({ API: 'allow' });
const deny = role({ API: 'deny' });
const none = role({});

describe('judgeUserToken', () => {
  it.each<[string, Parameters<typeof judgeUserToken>[0], string | null]>([
    ['enabled token, allowed user', { token: token(), user: user(), roles: [allow], now: NOW }, null],
    ['two allowing roles', { token: token(), user: user(), roles: [allow, allow], now: NOW }, null],
    ['allow plus a role that says nothing', { token: token(), user: user(), roles: [none, allow], now: NOW }, null],
    ['future expiry', { token: token({ expiresAt: '2026-11-30T00:00:00Z' }), user: user(), roles: [allow], now: NOW }, null],
    ['disabled token', { token: token({ enabled: false }), user: user(), roles: [allow], now: NOW }, 'CredentialDisabled'],
    ['revoked (found in public code), even when enabled', { token: token({ revoked: true }), user: user(), roles: [allow], now: NOW }, 'CredentialRevoked'],
    ['rolled-away secret still in its overlap', { token: token({ secretExpiresAt: '2026-11-29T12:00:01Z' }), user: user(), roles: [allow], now: NOW }, null],
    ['rolled-away secret past its overlap', { token: token({ secretExpiresAt: '2026-11-29T12:00:00Z' }), user: user(), roles: [allow], now: NOW }, 'CredentialExpired'],
    ['expired token', { token: token({ expiresAt: '2026-11-29T11:59:59Z' }), user: user(), roles: [allow], now: NOW }, 'CredentialExpired'],
    ['expiring this instant', { token: token({ expiresAt: '2026-11-29T12:00:00Z' }), user: user(), roles: [allow], now: NOW }, 'CredentialExpired'],
    ['disabled token beats missing permission', { token: token({ enabled: false }), user: user(), roles: [], now: NOW }, 'CredentialDisabled'],
    ['user gone', { token: token(), user: undefined, roles: [], now: NOW }, 'CredentialUnknown'],
    ['user disabled', { token: token(), user: user({ enabled: false }), roles: [allow], now: NOW }, 'UserDisabled'],
    ['no roles', { token: token(), user: user(), roles: [], now: NOW }, 'PermissionDenied'],
    ['role without API', { token: token(), user: user(), roles: [none], now: NOW }, 'PermissionDenied'],
    ['allowed by one role, denied by another', { token: token(), user: user(), roles: [allow, deny], now: NOW }, 'PermissionDenied'],
    ['deny first, allow second', { token: token(), user: user(), roles: [deny, allow], now: NOW }, 'PermissionDenied'],
    ['allow from another organization', { token: token(), user: user(), roles: [role({ API: 'allow' }, 'o2')], now: NOW }, 'PermissionDenied'],
  ])('%s', (_name, facts, expected) => {
    expect(judgeUserToken(facts)?.code ?? null).toBe(expected);
  });
});
