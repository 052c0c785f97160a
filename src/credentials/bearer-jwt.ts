// credentials/: the OAuth access token at the edge (DESIGN.md §3.4) — verified locally (signature,
// typ, iss, aud, exp with a small leeway), then its grant through the cache tiers under its own key
// (`grant:<id>`, evicted when revoked), then the user: enabled, API permission. Scope `api:read`
// allows GET and HEAD only.
// /!\ Hot path.
import { deepest, type Records } from '../cache/records.js';
import type { AccessTokenClaims, VerifyOutcome } from '../oauth/access-token.js';
import { AccessTokenInvalid, PermissionDenied, ScopeInsufficient, UserDisabled, type GatehouseError } from '../pipeline/errors.js';
import { effectivePermission } from '../policy/permission.js';
import { API_PERMISSION } from '../policy/user-token.js';
import type { Authenticated } from './principal.js';

export type AccessTokenVerifier = (token: string) => VerifyOutcome;

const READ_METHODS = new Set(['GET', 'HEAD']);

/** Pure: may a token with these scopes make a request with this method? */
export function scopeAllows(scope: string, method: string): boolean {
  const scopes = scope.split(' ');
  if (scopes.includes('api')) return true;
  return scopes.includes('api:read') && READ_METHODS.has(method.toUpperCase());
}

export async function authenticateBearerJwt(
  token: string,
  method: string,
  verify: AccessTokenVerifier,
  records: Records,
): Promise<(Authenticated & { claims: AccessTokenClaims }) | GatehouseError> {
  const verified = verify(token);
  if (!verified.ok) return new AccessTokenInvalid(verified.reason === 'expired' ? 'expired' : 'invalid');
  const { claims } = verified;

  const grant = await records.grant(claims.grant_id);
  const g = grant.value;
  if (!g || g.revoked || g.userId !== claims.sub || g.clientId !== claims.client_id) return new AccessTokenInvalid('revoked');
  const user = await records.user(g.userId);
  if (!user.value) return new AccessTokenInvalid('revoked');
  if (!user.value.enabled) return new UserDisabled();
  const roles = await records.roles(user.value.roleIds);
  const own = roles.roles.filter((r) => r.organizationId === user.value!.organizationId);
  if (effectivePermission(own, API_PERMISSION) !== 'allowed') return new PermissionDenied();
  if (!scopeAllows(claims.scope, method)) return new ScopeInsufficient();

  const u = user.value;
  return {
    principal: { authKind: 'oauth', tokenId: g.id, userId: u.id, organizationId: u.organizationId, loginName: u.loginName },
    tier: deepest(deepest(grant.tier, user.tier), roles.tier),
    claims,
  };
}
