// credentials/: the user API token — shape check, resolve (token → user → roles), judge.
// Extraction lives in extract-rest.ts (and the SOAP carriers); the rules in policy/.
// /!\ Hot path.
import type { RecordReader } from '../cache/record-reader.js';
import { deepest } from '../cache/tier.js';
import { CredentialMalformed, CredentialUnknown, type GatehouseError } from '../outcomes/errors.js';
import { effectiveExpiry, judgeUserToken } from '../policy/user-token.js';
import { grantsOfRestrictions } from '../permissions/restrictions.js';
import type { Authenticated } from './principal.js';
import { checkTokenShape, hashToken } from '../tokens/token-format.js';

export async function authenticateApiToken(
  secret: string,
  records: RecordReader,
  now: number = Date.now(),
): Promise<Authenticated | GatehouseError> {
  // Shape: length, alphabet, prefix, checksum — no I/O for garbage
  const shape = checkTokenShape(secret);
  if (!shape.ok) return new CredentialMalformed();
  if (shape.kind !== 'user' && shape.kind !== 'legacy') return new CredentialUnknown();

  // Resolve through the cache tiers, each record under its own key
  const token = await records.apiToken(hashToken(secret));
  if (!token.value) return new CredentialUnknown();
  const user = await records.user(token.value.userId);
  const roles = user.value ? await records.roles(user.value.roleIds) : { roles: [], tier: user.tier };

  // Judge
  const refusal = judgeUserToken({ token: token.value, user: user.value, roles: roles.roles, now });
  if (refusal) return refusal;
  const u = user.value!;
  const { restrictions } = token.value;
  const grants = grantsOfRestrictions(restrictions);
  return {
    principal: { authKind: 'api-token', grants, tokenId: token.value.id, userId: u.id, organizationId: u.organizationId, loginName: u.loginName },
    tier: deepest(deepest(token.tier, user.tier), roles.tier),
    expiresAt: effectiveExpiry(token.value),
    restrictions,
  };
}
