// credentials/: the OAuth access token at the edge (DESIGN.md §3.4; RFC 6750, RFC 9068) — verified
// locally (signature, typ, iss, aud, exp with a small leeway), then its grant through the cache
// tiers under its own key (`grant:<id>`, evicted when revoked), then the user and roles; the rules
// (grant in force, user enabled with API, scope vs method) live in policy/oauth-token.ts.
// /!\ Hot path.
import type { RecordReader } from '../cache/record-reader.js';
import { deepest } from '../cache/tier.js';
import { AccessTokenInvalid, type GatehouseError } from '../outcomes/errors.js';
import { judgeOAuthToken } from '../policy/oauth-token.js';
import { grantsOfScope, type Need } from '../permissions/vocabulary.js';
import type { Authenticated } from './principal.js';
import type { AccessTokenClaims, AccessTokenVerifier } from '../tokens/access-token-format.js';

export async function authenticateBearerJwt(
  token: string,
  need: Need | undefined,
  verify: AccessTokenVerifier,
  records: RecordReader,
): Promise<(Authenticated & { claims: AccessTokenClaims }) | GatehouseError> {
  // Verify locally: no I/O for a forged, expired or foreign token
  const verified = verify(token);
  if (!verified.ok) return new AccessTokenInvalid(verified.reason === 'expired' ? 'expired' : 'invalid');
  const { claims } = verified;

  // Resolve through the cache tiers, each record under its own key
  const grant = await records.grant(claims.grant_id);
  const user = grant.value ? await records.user(grant.value.userId) : { value: undefined, tier: grant.tier };
  const roles = user.value ? await records.roles(user.value.roleIds) : { roles: [], tier: user.tier };

  // Judge: the scopes against what the call needs; the grants they give are what the upstream is told
  const refusal = judgeOAuthToken({ claims, grant: grant.value, user: user.value, roles: roles.roles, need });
  if (refusal) return refusal;
  const u = user.value!;
  const grants = grantsOfScope(claims.scope);
  return {
    principal: { authKind: 'oauth', grants, tokenId: grant.value!.id, userId: u.id, organizationId: u.organizationId, loginName: u.loginName },
    tier: deepest(deepest(grant.tier, user.tier), roles.tier),
    claims,
  };
}
