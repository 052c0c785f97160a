// policy/: the fence around organization API tokens (DESIGN.md §3.4). Pure functions over resolved
// records, each returning the refusal as a value (null = allowed). Split in the order the pipeline
// resolves records, so a call refused by the token, the version or the flag costs no user look-up.
import {
  ActingUserDisabled,
  ActingUserNotAllowed,
  CredentialDisabled,
  CredentialRevoked,
  CredentialUnknown,
  FeatureFlagMissing,
  PermissionDenied,
  VersionNotAllowed,
  type GatehouseError,
} from '../outcomes/errors.js';
import type { OrgApiTokenRecord, OrganizationRecord, RoleRecord, UserRecord } from '../store/records.js';
import type { OrgTokenManagementFacts, OrgTokenManagementVerdict } from '../store/org-token-admin.js';
import { effectivePermission } from './permission.js';
import { API_PERMISSION } from './user-token.js';

export const ORG_TOKEN_FLAG = 'OrganizationApiToken';
/** REST versions an organization token may call, judged on the normalized path's version. */
export const ORG_TOKEN_MIN_VERSION = 1;
export const ORG_TOKEN_MAX_VERSION = 5;

export function hasOrgTokenFlag(org: OrganizationRecord): boolean {
  return org.featureFlags.includes(ORG_TOKEN_FLAG);
}

export interface OrgTokenCallFacts {
  token: OrgApiTokenRecord;
  /** Undefined when the token's organization no longer exists. */
  organization: OrganizationRecord | undefined;
  /** The REST API version of the normalized path, or `soap` (reached only when `orgTokens.allowSoap`). */
  version: number | 'soap';
}

/** The token itself, the version fence and the feature flag. */
export function judgeOrgTokenCall({ token, organization, version }: OrgTokenCallFacts): GatehouseError | null {
  if (!organization || organization.id !== token.organizationId) return new CredentialUnknown();
  if (token.revoked) return new CredentialRevoked();
  if (!token.enabled) return new CredentialDisabled();
  if (version !== 'soap' && (!Number.isInteger(version) || version < ORG_TOKEN_MIN_VERSION || version > ORG_TOKEN_MAX_VERSION)) {
    return new VersionNotAllowed();
  }
  // Without the flag the token record stays; it works again once the flag is granted back.
  if (!hasOrgTokenFlag(organization)) return new FeatureFlagMissing();
  return null;
}

export interface ActingUserFacts {
  /** The token's organization. */
  organizationId: string;
  /** Undefined when no user has the login name. */
  user: UserRecord | undefined;
  roles: readonly RoleRecord[];
}

/** The user named by `userLoginName`: in the token's organization, enabled, `API` allowed and denied by no role. */
export function judgeActingUser({ organizationId, user, roles }: ActingUserFacts): GatehouseError | null {
  // Unknown and foreign users get the same answer: no probing for which logins exist.
  if (!user || user.organizationId !== organizationId) return new ActingUserNotAllowed();
  if (!user.enabled) return new ActingUserDisabled();
  const own = roles.filter((r) => r.organizationId === organizationId);
  if (effectivePermission(own, API_PERMISSION) !== 'allowed') return new PermissionDenied();
  return null;
}

/**
 * Who may create, list, enable, disable and delete the organization's tokens: an enabled user of
 * the organization whose `API` permission is in effect, while the flag is on. A user whose `API`
 * is denied by any role is refused even if another role allows it ('permission-blocked').
 * It is the rule store/org-token-admin.ts is given by its callers (the store names the facts and
 * the verdict, and never imports policy).
 */
export function judgeOrgTokenManagement({ user, organization, roles }: OrgTokenManagementFacts): OrgTokenManagementVerdict {
  if (user.organizationId !== organization.id) throw new Error('judgeOrgTokenManagement: user and organization differ');
  if (!user.enabled) return { allowed: false, reason: 'user-disabled' };
  if (!hasOrgTokenFlag(organization)) return { allowed: false, reason: 'feature-disabled' };
  const effective = effectivePermission(roles.filter((r) => r.organizationId === organization.id), API_PERMISSION);
  if (effective === 'denied') return { allowed: false, reason: 'permission-blocked' };
  if (effective === 'not-granted') return { allowed: false, reason: 'permission-missing' };
  return { allowed: true };
}
