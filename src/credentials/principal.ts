// credentials/: who a verified call acts as. This is what the upstream is told (X-Gatehouse-Identity)
// and what the access log records — never the secret.
import type { Tier } from '../cache/tier.js';
import type { AuthKind } from '../observability/labels.js';
import type { TokenRestrictions } from '../permissions/restrictions.js';
import { FAMILIES, type Grants } from '../permissions/vocabulary.js';

export type { AuthKind };

/**
 * What the call may do, in short, as the upstream is told (`scope` in X-Gatehouse-Identity): `api`
 * = it may write something; `api:read` = reads only (an OAuth token granted `api:read`, or a token
 * restricted to read permissions). `perms` tells the upstream exactly which (`grants`).
 */
export type ApiScope = 'api' | 'api:read';

export interface Principal {
  authKind: AuthKind;
  scope: ApiScope;
  /** The effective permissions of the credential (permissions/vocabulary.ts): all of them, a token's restriction, or an OAuth token's scopes. */
  grants: Grants;
  tokenId: string;
  userId: string;
  organizationId: string;
  loginName: string;
}

export interface Authenticated {
  principal: Principal;
  /** The deepest cache tier the look-ups reached. */
  tier: Tier;
  /** When the presented secret stops working (ISO-8601), if it does: the expiry warning header. */
  expiresAt?: string | null;
  /** A restricted token's restrictions (issue 20), judged against the call (policy/token-restrictions.ts). */
  restrictions?: TokenRestrictions | null;
}

/** `api` when the grants allow any write, else `api:read`. */
export function scopeOfGrants(g: Grants): ApiScope {
  for (const f of FAMILIES) if (g[f] === 'write') return 'api';
  return 'api:read';
}
