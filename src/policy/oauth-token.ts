// policy/: may this OAuth access token (already verified: signature, typ, iss, aud, exp) make this
// call? Pure over the resolved grant, user and roles (DESIGN.md §3.4); returns the refusal as a
// value (null = allowed). Order: a revoked grant is 401 before anything about the user is said.
import { AccessTokenInvalid, PermissionDenied, ScopeInsufficient, UserDisabled, type GatehouseError } from '../outcomes/errors.js';
import type { GrantRecord, RoleRecord, UserRecord } from '../store/records.js';
import type { AccessTokenClaims } from '../tokens/access-token-format.js';
import { effectivePermission } from './permission.js';
import { API_PERMISSION } from './user-token.js';

const READ_METHODS = new Set(['GET', 'HEAD']);

/** `api`: everything the user may do; `api:read`: GET and HEAD only. */
export function scopeAllows(scope: string, method: string): boolean {
  const scopes = scope.split(' ');
  if (scopes.includes('api')) return true;
  return scopes.includes('api:read') && READ_METHODS.has(method.toUpperCase());
}

export interface OAuthTokenFacts {
  claims: Pick<AccessTokenClaims, 'sub' | 'client_id' | 'scope'>;
  /** Undefined when the grant does not exist (deleted client, forged grant id). */
  grant: GrantRecord | undefined;
  user: UserRecord | undefined;
  roles: readonly RoleRecord[];
  method: string;
}

export function judgeOAuthToken({ claims, grant, user, roles, method }: OAuthTokenFacts): GatehouseError | null {
  if (!grant || grant.revoked || grant.userId !== claims.sub || grant.clientId !== claims.client_id) return new AccessTokenInvalid('revoked');
  if (!user) return new AccessTokenInvalid('revoked');
  if (!user.enabled) return new UserDisabled();
  const own = roles.filter((r) => r.organizationId === user.organizationId);
  if (effectivePermission(own, API_PERMISSION) !== 'allowed') return new PermissionDenied();
  if (!scopeAllows(claims.scope, method)) return new ScopeInsufficient();
  return null;
}
