// policy/: may this OAuth access token (already verified: signature, typ, iss, aud, exp) make this
// call? Pure over the resolved grant, user and roles (DESIGN.md §3.4); returns the refusal as a
// value (null = allowed). Order: a revoked grant is 401 before anything about the user is said.
// Scopes speak the permission vocabulary (issue 20): `api`, `api:read` (every family, read), and
// `envelope:read`, `template:write`, ... — judged against what the call needs (permissions/).
import { AccessTokenInvalid, PermissionDenied, ScopeInsufficient, UserDisabled, type GatehouseError } from '../outcomes/errors.js';
import type { GrantRecord, RoleRecord, UserRecord } from '../store/records.js';
import type { AccessTokenClaims } from '../tokens/access-token-format.js';
import { ALL_GRANTS, ANY_TOKEN, grantsAllow, grantsOfScope, needName, type Need } from '../permissions/vocabulary.js';
import { effectivePermission } from './permission.js';
import { API_PERMISSION } from './user-token.js';

/** May a token of this scope make a call that needs `need`? Anything outside the vocabulary needs `api`. */
export function scopeAllows(scope: string, need: Need | undefined): boolean {
  const grants = grantsOfScope(scope);
  if (grants === ALL_GRANTS) return true;
  return need !== undefined && grantsAllow(grants, need);
}

export interface OAuthTokenFacts {
  claims: Pick<AccessTokenClaims, 'sub' | 'client_id' | 'scope'>;
  /** Undefined when the grant does not exist (deleted client, forged grant id). */
  grant: GrantRecord | undefined;
  user: UserRecord | undefined;
  roles: readonly RoleRecord[];
  /** What the call needs (permissions/rest-map.ts, soap-map.ts); undefined = outside the vocabulary. */
  need: Need | undefined;
}

export function judgeOAuthToken({ claims, grant, user, roles, need }: OAuthTokenFacts): GatehouseError | null {
  if (!grant || grant.revoked || grant.userId !== claims.sub || grant.clientId !== claims.client_id) return new AccessTokenInvalid('revoked');
  if (!user) return new AccessTokenInvalid('revoked');
  if (!user.enabled) return new UserDisabled();
  const own = roles.filter((r) => r.organizationId === user.organizationId);
  if (effectivePermission(own, API_PERMISSION) !== 'allowed') return new PermissionDenied();
  if (!scopeAllows(claims.scope, need)) return new ScopeInsufficient(need === undefined || need === ANY_TOKEN ? 'api' : needName(need));
  return null;
}
