// The tables of the store as Kysely sees them. Booleans are 0/1 integers and times ISO-8601 text
// in both dialects, so one query code path serves SQLite and PostgreSQL.
import type { Generated } from 'kysely';
import type { LegacyOrgKeyForm } from '../tokens/token-format.js';

export interface OrganizationsTable {
  id: string;
  name: string;
  /** JSON array of feature flag names, e.g. ["OrganizationApiToken"]. */
  feature_flags: string;
  created_at: string;
  /** Longest lifetime a new user token may have, in days; null = no limit (0004_token_lifecycle). */
  max_token_lifetime_days?: number | null;
}

export interface UsersTable {
  id: string;
  organization_id: string;
  login_name: string;
  /** Lower-cased login name: the unique key, so logins are unique case-insensitively. */
  login_key: string;
  enabled: number;
  password_hash: string | null;
  created_at: string;
}

export interface RolesTable {
  id: string;
  organization_id: string;
  name: string;
  created_at: string;
}

export interface RolePermissionsTable {
  role_id: string;
  permission: string;
  effect: 'allow' | 'deny';
}

export interface UserRolesTable {
  user_id: string;
  role_id: string;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  /** What the user sees instead of the secret: `gtu_…abcd`. */
  hint: string;
  /** `minted` (gtu_) or `legacy` (imported 64–66 character token). */
  origin: 'minted' | 'legacy';
  enabled: number;
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
  last_used_ip: string | null;
  /** Set when the token was revoked (0004_token_lifecycle); the record stays so the refusal can say why. */
  revoked_at?: string | null;
  /** JSON of permissions/restrictions.ts TokenRestrictions; null = unrestricted (0006_token_restrictions). */
  restrictions?: string | null;
  revoked_reason?: string | null;
}

/** How an organization token came to be: minted here (`gto_`), or imported in one of the platform's legacy forms. */
export type OrgTokenOrigin = 'minted' | `legacy-${LegacyOrgKeyForm}`;

export interface OrgApiTokensTable {
  id: string;
  organization_id: string;
  name: string;
  /** SHA-256 of the token (of a legacy GUID key: of its lower-case spelling). */
  token_hash: string;
  hint: string;
  /** 0005_legacy_org_keys; the gateway's org-key shape check needs to know which legacy forms exist. */
  origin: OrgTokenOrigin;
  enabled: number;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  last_used_ip: string | null;
  revoked_at?: string | null;
  revoked_reason?: string | null;
}

/** Earlier secrets of a rolled token, each valid until its own expiry (0004_token_lifecycle). */
export interface ApiTokenSecretsTable {
  token_hash: string;
  token_id: string;
  expires_at: string;
  created_at: string;
}

/** The last few distinct client addresses per token, from the batched usage records. */
export interface TokenUsageIpsTable {
  token_id: string;
  ip: string;
  last_at: string;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  /** Who did it: `cli`, `user:<id>`, `system`. */
  actor: string;
  action: string;
  target_kind: string;
  target_id: string;
  organization_id: string | null;
  source: string | null;
  detail: string | null;
}

/** The change feed: every write that changes what a credential may do appends the cache keys it invalidates. */
export interface ChangesTable {
  id: Generated<number>;
  at: string;
  cache_key: string;
}

/** OAuth2 (src/oauth/): a registered application. Redirect URIs: JSON array, matched exactly. */
export interface OAuthClientsTable {
  id: string;
  name: string;
  description: string;
  logo_url: string | null;
  redirect_uris: string;
  public: number;
  secret_hash: string | null;
  enabled: number;
  created_at: string;
}

/** What a user allowed a client to do; revoking it stops its refresh tokens and access tokens. */
export interface OAuthGrantsTable {
  id: string;
  client_id: string;
  user_id: string;
  scope: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface OAuthCodesTable {
  code_hash: string;
  grant_id: string;
  client_id: string;
  redirect_uri: string;
  /** S256 challenge, or null when the (confidential) client sent none. */
  code_challenge: string | null;
  scope: string;
  expires_at: string;
  used_at: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  grant_id: string;
  scope: string;
  created_at: string;
  expires_at: string;
  /** Set when rotated: presenting it again revokes the grant. */
  spent_at: string | null;
}

export interface Database {
  organizations: OrganizationsTable;
  users: UsersTable;
  roles: RolesTable;
  role_permissions: RolePermissionsTable;
  user_roles: UserRolesTable;
  api_tokens: ApiTokensTable;
  org_api_tokens: OrgApiTokensTable;
  audit_events: AuditEventsTable;
  changes: ChangesTable;
  oauth_clients: OAuthClientsTable;
  oauth_grants: OAuthGrantsTable;
  oauth_codes: OAuthCodesTable;
  refresh_tokens: RefreshTokensTable;
  api_token_secrets: ApiTokenSecretsTable;
  token_usage_ips: TokenUsageIpsTable;
}
