import type { TokenRestrictions } from '../permissions/restrictions.js';

// The records the gateway resolves a credential into. Each is cached under its own key
// (see change-keys.ts), so one change to a role or a flag is one eviction, not one per token.

export interface ApiTokenRecord {
  id: string;
  userId: string;
  name: string;
  hint: string;
  origin: 'minted' | 'legacy';
  enabled: boolean;
  /** ISO-8601, or null for no expiry. */
  expiresAt: string | null;
  /** Revoked (e.g. found in public code): refused with its own message; the record is kept. */
  revoked?: boolean;
  /** Set when the hash looked up is an earlier secret of a rolled token: when that secret stops. */
  secretExpiresAt?: string | null;
  /** What the token is restricted to (issue 20): permissions, networks, highest version; absent = everything its user may do. */
  restrictions?: TokenRestrictions | null;
}

export interface UserRecord {
  id: string;
  organizationId: string;
  loginName: string;
  enabled: boolean;
  roleIds: string[];
}

export type PermissionEffect = 'allow' | 'deny';

export interface RoleRecord {
  id: string;
  organizationId: string;
  name: string;
  permissions: Record<string, PermissionEffect>;
}

export interface OrganizationRecord {
  id: string;
  name: string;
  featureFlags: string[];
}

export interface Change {
  id: number;
  cacheKey: string;
}

/** An organization API token (deprecated credential): acts for any user of its organization. */
export interface OrgApiTokenRecord {
  id: string;
  organizationId: string;
  name: string;
  hint: string;
  enabled: boolean;
  revoked?: boolean;
}

/** A login name resolved to its user: the key is the lower-cased login (unique case-insensitively). */
export interface LoginRecord {
  userId: string;
}

/** An OAuth grant as the edge checks it behind a verified access token. */
export interface GrantRecord {
  id: string;
  clientId: string;
  userId: string;
  revoked: boolean;
}
