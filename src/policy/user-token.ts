// policy/: may this user API token make this call? Pure over the resolved records; returns the
// refusal as a value (null = allowed). Order matters: a disabled or expired credential is 401
// before anything about the user's rights is said.
import {
  CredentialDisabled,
  CredentialExpired,
  CredentialRevoked,
  CredentialUnknown,
  PermissionDenied,
  UserDisabled,
  type GatehouseError,
} from '../outcomes/errors.js';
import type { ApiTokenRecord, RoleRecord, UserRecord } from '../store/records.js';
import { effectivePermission } from './permission.js';

export const API_PERMISSION = 'API';

export interface UserTokenFacts {
  token: ApiTokenRecord;
  /** Undefined when the token's user no longer exists. */
  user: UserRecord | undefined;
  roles: readonly RoleRecord[];
  now: number;
}

export function judgeUserToken({ token, user, roles, now }: UserTokenFacts): GatehouseError | null {
  if (token.revoked) return new CredentialRevoked();
  if (!token.enabled) return new CredentialDisabled();
  const expiresAt = effectiveExpiry(token);
  if (expiresAt !== null && Date.parse(expiresAt) <= now) return new CredentialExpired();
  if (!user) return new CredentialUnknown();
  if (!user.enabled) return new UserDisabled();
  // Roles of another organization never count (defence in depth: the store should never link them).
  const own = roles.filter((r) => r.organizationId === user.organizationId);
  if (effectivePermission(own, API_PERMISSION) !== 'allowed') return new PermissionDenied();
  return null;
}

/** When the presented secret stops working: the token's expiry, or earlier, its rolled-away secret's. */
export function effectiveExpiry(token: Pick<ApiTokenRecord, 'expiresAt' | 'secretExpiresAt'>): string | null {
  const a = token.expiresAt;
  const b = token.secretExpiresAt ?? null;
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}
