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

/** An absent login, as cached. */
const NO_USER_ID: LoginRecord = { userId: '' };
const absentAsUndefined = (r: Resolved<LoginRecord>): Resolved<LoginRecord> => (r.value?.userId === '' ? { value: undefined, tier: r.tier, stale: r.stale } : r);

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

  /**
   * Login name (any case) → user id; the user itself is then resolved under its own key. A login no
   * user has is cached as a record too (`userId` empty, handed out as absent), for as long as a
   * present one: creating the user evicts the key, and an unknown login named again costs what a
   * known one does, at any age (issue 19 item 11).
   */
  userIdByLogin(loginName: string): Promise<Resolved<LoginRecord>> | Resolved<LoginRecord> {
    const key = loginName.toLowerCase();
    const found = this.resolver.resolve(cacheKeys.login(key), async (): Promise<LoginRecord> => (await this.store.findUserIdByLogin(key)) ?? NO_USER_ID);
    return found instanceof Promise ? found.then(absentAsUndefined) : absentAsUndefined(found);
  }

  /**
   * What an unknown login reads instead of its user (credentials/org-token.ts): a user under an id
   * no user has, through the same tiers and the same store read, its absence cached as a record of
   * nobody (no organization, disabled) for as long as a user is — so an unknown login costs what a
   * login of another organization costs, and no timing tells which logins exist.
   */
  absentUser(id: string): Promise<Resolved<UserRecord>> | Resolved<UserRecord> {
    return this.resolver.resolve(cacheKeys.user(id), async () => (await this.store.findUser(id)) ?? { id, organizationId: '', loginName: '', enabled: false, roleIds: [] });
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
