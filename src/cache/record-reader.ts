// cache/: the read side of the records a credential resolves to — token, user, role,
// organization, grant, login — each through the tiers (L1 → L2 → store) under its own key. The
// write side is the store's (store/admin-store.ts and its siblings), whose commits evict these keys.
// /!\ Hot path.
import { cacheKeys } from '../store/change-keys.js';
import type { GatewayStore } from '../store/gateway-store.js';
import type { ApiTokenRecord, GrantRecord, LoginRecord, OrgApiTokenRecord, OrganizationRecord, RoleRecord, UserRecord } from '../store/records.js';
import { LegacyOrgKeyForms } from './legacy-org-keys.js';
import type { Resolved, TieredResolver } from './resolver.js';
import { deepest, type Tier } from './tier.js';

export class RecordReader {
  constructor(
    private readonly resolver: TieredResolver,
    private readonly store: GatewayStore,
    /** Which legacy organization-key forms are imported: the org-key shape check reads it, no I/O. */
    readonly legacyOrgKeys: LegacyOrgKeyForms = new LegacyOrgKeyForms(async () => []),
  ) {}

  apiToken(hash: string): Promise<Resolved<ApiTokenRecord>> | Resolved<ApiTokenRecord> {
    return this.resolver.resolve(cacheKeys.token(hash), () => this.store.findApiTokenByHash(hash));
  }

  user(id: string): Promise<Resolved<UserRecord>> | Resolved<UserRecord> {
    return this.resolver.resolve(cacheKeys.user(id), () => this.store.findUser(id));
  }

  role(id: string): Promise<Resolved<RoleRecord>> | Resolved<RoleRecord> {
    return this.resolver.resolve(cacheKeys.role(id), () => this.store.findRole(id));
  }

  organization(id: string): Promise<Resolved<OrganizationRecord>> | Resolved<OrganizationRecord> {
    return this.resolver.resolve(cacheKeys.organization(id), () => this.store.findOrganization(id));
  }

  orgToken(hash: string): Promise<Resolved<OrgApiTokenRecord>> | Resolved<OrgApiTokenRecord> {
    return this.resolver.resolve(cacheKeys.orgToken(hash), () => this.store.findOrgTokenByHash(hash));
  }

  grant(id: string): Promise<Resolved<GrantRecord>> | Resolved<GrantRecord> {
    return this.resolver.resolve(cacheKeys.grant(id), () => this.store.findGrant(id));
  }

  /** Login name (any case) → user id; the user itself is then resolved under its own key. */
  userIdByLogin(loginName: string): Promise<Resolved<LoginRecord>> | Resolved<LoginRecord> {
    const key = loginName.toLowerCase();
    return this.resolver.resolve(cacheKeys.login(key), () => this.store.findUserIdByLogin(key));
  }

  /** The user's roles that still exist, and the deepest tier consulted. */
  async roles(ids: readonly string[]): Promise<{ roles: RoleRecord[]; tier: Tier }> {
    const roles: RoleRecord[] = [];
    let tier: Tier = 'l1';
    for (const id of ids) {
      const r = await this.role(id);
      tier = deepest(tier, r.tier);
      if (r.value) roles.push(r.value);
    }
    return { roles, tier };
  }
}
