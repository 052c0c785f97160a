// settings/: what the page may show and allow, decided from the user's records. Pure: the
// permission rule itself is policy/permission.ts, the same one the gateway applies.
import { effectivePermission, type Effective } from '../policy/permission.js';
import type { OrganizationRecord, RoleRecord } from '../store/records.js';

export const ORG_TOKEN_FLAG = 'OrganizationApiToken';
export const ORG_TOKEN_WARNING =
  "Organization API tokens are deprecated. Such a token reaches every user's envelopes in the organization and works only with REST API v1 to v5. Prefer a personal API token.";

export interface OrgTokenSection {
  /** Shown only when the organization has the OrganizationApiToken feature flag. */
  visible: boolean;
  /** False when the user's API permission is blocked; `reason` says why. */
  enabled: boolean;
  reason: string | null;
  warning: string;
}

export function apiPermissionOf(roles: readonly RoleRecord[]): Effective {
  return effectivePermission(roles, 'API');
}

function blockedReason(roles: readonly RoleRecord[], effective: Effective): string | null {
  if (effective === 'allowed') return null;
  if (effective === 'denied') {
    const by = roles.filter((r) => r.permissions.API === 'deny').map((r) => r.name);
    return `Your role ${by.map((n) => `"${n}"`).join(', ')} denies the API permission, so organization API tokens cannot be created or used.`;
  }
  return 'None of your roles grants the API permission, so organization API tokens cannot be created or used.';
}

export function orgTokenSection(org: OrganizationRecord | undefined, roles: readonly RoleRecord[]): OrgTokenSection {
  const visible = !!org && org.featureFlags.includes(ORG_TOKEN_FLAG);
  const reason = blockedReason(roles, apiPermissionOf(roles));
  return { visible, enabled: visible && reason === null, reason: visible ? reason : null, warning: ORG_TOKEN_WARNING };
}
