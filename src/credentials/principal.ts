// credentials/: who a verified call acts as. This is what the upstream is told (X-Gatehouse-Identity)
// and what the access log records — never the secret.
import type { Tier } from '../cache/tier.js';
import type { AuthKind } from '../observability/labels.js';

export type { AuthKind };

/**
 * What the call may do, as the upstream is told (`scope` in X-Gatehouse-Identity): `api` =
 * whatever the user's API permission allows (user and organization tokens, OAuth `api`);
 * `api:read` = GET and HEAD only (an OAuth token granted `api:read` and not `api`).
 */
export type ApiScope = 'api' | 'api:read';

export interface Principal {
  authKind: AuthKind;
  scope: ApiScope;
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
}
