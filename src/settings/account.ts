// settings/: the signed-in user's account as the settings API describes it — who they are, whether
// their roles grant the API permission, and what the organization-token section may show — read
// from the gateway's records (the same ones, and the same permission rule, the gateway judges by).
import type { GatewayStore } from '../store/index.js';
import type { RoleRecord } from '../store/records.js';
import type { Session } from './session-store.js';
import { apiPermissionOf, orgTokenSection, type OrgTokenSection } from './sections.js';
import type { Me } from './wire.js';

/** The records an account is read from. */
export type Directory = Pick<GatewayStore, 'findUser' | 'findRole' | 'findOrganization'>;

export interface Account {
  /** GET /me's body, also the answer to a sign-in. */
  me(session: Session): Promise<Me>;
  orgTokenSection(session: Session): Promise<OrgTokenSection>;
}

export function accountOf(directory: Directory): Account {
  async function rolesOf(userId: string): Promise<RoleRecord[]> {
    const user = await directory.findUser(userId);
    const roles = await Promise.all((user?.roleIds ?? []).map((id) => directory.findRole(id)));
    return roles.filter((r): r is RoleRecord => !!r);
  }
  const orgAndRoles = (s: Session) => Promise.all([directory.findOrganization(s.organizationId), rolesOf(s.userId)]);
  return {
    async me(s) {
      const [org, roles] = await orgAndRoles(s);
      return {
        user: { id: s.userId, loginName: s.loginName, organization: { id: s.organizationId, name: org?.name ?? '' } },
        apiPermission: apiPermissionOf(roles),
        csrfToken: s.csrfToken,
        sessionExpiresAt: s.expiresAt,
      };
    },
    async orgTokenSection(s) {
      const [org, roles] = await orgAndRoles(s);
      return orgTokenSection(org, roles);
    },
  };
}
