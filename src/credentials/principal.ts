// credentials/: who a verified call acts as. This is what the upstream is told (X-Gatehouse-Identity)
// and what the access log records — never the secret.
import type { Tier } from '../cache/tier.js';
import type { AuthKind } from '../observability/labels.js';
import type { TokenRestrictions } from '../permissions/restrictions.js';
import type { Grants } from '../permissions/vocabulary.js';

export type { AuthKind };

export interface Principal {
  authKind: AuthKind;
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
