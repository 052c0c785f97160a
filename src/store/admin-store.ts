// store/: the write side of organizations, roles, users and user API tokens. Every write runs in
// the shared write context (write-context.ts): the cache keys it invalidates go to the change feed
// and an audit event to the trail in the same transaction, so no caller (the CLI, the settings API)
// can forget the invalidation.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { hashToken, mintToken, tokenHint, checkTokenShape } from '../tokens/token-format.js';
import { checkRestrictions, type RestrictionsInput, type TokenRestrictions } from '../permissions/restrictions.js';
import { cacheKeys } from './change-keys.js';
import { conflict, invalid, notFound } from './errors.js';
import { revokeGrantsWhere } from './grant-revocation.js';
import { apiTokenById, checkName, orgByName, userByLogin } from './names.js';
import type { Database } from './tables.js';
import { checkTokenLifetime } from './token-lifecycle.js';
import { newTokenRow } from './token-rows.js';
import { writesOn, type Actor, type WriteContext, type Writes } from './write-context.js';

export const PERMISSIONS = ['API'] as const;
export const FEATURE_FLAGS = ['OrganizationApiToken'] as const;

export type { Actor } from './write-context.js';

export interface ApiTokenView {
  id: string;
  userId: string;
  loginName: string;
  name: string;
  hint: string;
  origin: 'minted' | 'legacy';
  enabled: boolean;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  /** What the token is restricted to (issue 20); null = everything its user may do. */
  restrictions: TokenRestrictions | null;
}

export interface LegacyTokenRow {
  line: number;
  login: string;
  name: string;
  token: string;
}

export class AdminStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly writes: Writes = writesOn(db),
  ) {}

  private async roleByName(w: WriteContext, organizationId: string, name: string) {
    const role = await w.trx
      .selectFrom('roles')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!role) throw notFound(`role "${name}"`);
    return role;
  }

  // --- organizations ---------------------------------------------------------------------------

  async createOrganization(who: Actor, name: string) {
    const clean = checkName(name, 'organization name');
    return this.writes.run(who, async (w) => {
      const exists = await w.trx.selectFrom('organizations').select('id').where('name', '=', clean).executeTakeFirst();
      if (exists) throw conflict(`organization "${clean}"`);
      const org = { id: randomUUID(), name: clean, feature_flags: '[]', created_at: w.now() };
      await w.trx.insertInto('organizations').values(org).execute();
      await w.audit({ action: 'organization.create', targetKind: 'organization', targetId: org.id, organizationId: org.id });
      return { id: org.id, name: org.name, featureFlags: [] as string[] };
    });
  }

  async setOrganizationFeature(who: Actor, orgName: string, flag: string, enabled: boolean) {
    if (!(FEATURE_FLAGS as readonly string[]).includes(flag)) throw invalid(`unknown feature flag "${flag}" (known: ${FEATURE_FLAGS.join(', ')})`);
    return this.writes.run(who, async (w) => {
      const org = await orgByName(w.trx, orgName);
      const flags = new Set(JSON.parse(org.feature_flags) as string[]);
      if (enabled) flags.add(flag);
      else flags.delete(flag);
      const featureFlags = [...flags].sort();
      await w.trx.updateTable('organizations').set({ feature_flags: JSON.stringify(featureFlags) }).where('id', '=', org.id).execute();
      await w.changed(cacheKeys.organization(org.id));
      await w.audit({ action: enabled ? 'feature.enable' : 'feature.disable', targetKind: 'organization', targetId: org.id, organizationId: org.id, detail: { flag } });
      return { id: org.id, name: org.name, featureFlags };
    });
  }

  // --- roles -----------------------------------------------------------------------------------

  async createRole(who: Actor, orgName: string, name: string, allow: string[], deny: string[]) {
    const clean = checkName(name, 'role name');
    for (const p of [...allow, ...deny]) {
      if (!(PERMISSIONS as readonly string[]).includes(p)) throw invalid(`unknown permission "${p}" (known: ${PERMISSIONS.join(', ')})`);
    }
    const both = allow.filter((p) => deny.includes(p));
    if (both.length) throw invalid(`permission "${both[0]}" cannot be both allowed and denied`);
    return this.writes.run(who, async (w) => {
      const org = await orgByName(w.trx, orgName);
      const exists = await w.trx.selectFrom('roles').select('id').where('organization_id', '=', org.id).where('name', '=', clean).executeTakeFirst();
      if (exists) throw conflict(`role "${clean}"`);
      const role = { id: randomUUID(), organization_id: org.id, name: clean, created_at: w.now() };
      await w.trx.insertInto('roles').values(role).execute();
      const perms = [
        ...allow.map((permission) => ({ role_id: role.id, permission, effect: 'allow' as const })),
        ...deny.map((permission) => ({ role_id: role.id, permission, effect: 'deny' as const })),
      ];
      if (perms.length) await w.trx.insertInto('role_permissions').values(perms).execute();
      await w.audit({ action: 'role.create', targetKind: 'role', targetId: role.id, organizationId: org.id, detail: { allow, deny } });
      return { id: role.id, organizationId: org.id, name: clean, allow, deny };
    });
  }

  /** Sets (or with `effect` null, removes) one permission of a role. */
  async setRolePermission(who: Actor, orgName: string, roleName: string, permission: string, effect: 'allow' | 'deny' | null) {
    if (!(PERMISSIONS as readonly string[]).includes(permission)) throw invalid(`unknown permission "${permission}"`);
    return this.writes.run(who, async (w) => {
      const org = await orgByName(w.trx, orgName);
      const role = await this.roleByName(w, org.id, roleName);
      await w.trx.deleteFrom('role_permissions').where('role_id', '=', role.id).where('permission', '=', permission).execute();
      if (effect) await w.trx.insertInto('role_permissions').values({ role_id: role.id, permission, effect }).execute();
      await w.changed(cacheKeys.role(role.id));
      await w.audit({ action: 'role.permission', targetKind: 'role', targetId: role.id, organizationId: org.id, detail: { permission, effect } });
    });
  }

  // --- users -----------------------------------------------------------------------------------

  async createUser(who: Actor, orgName: string, login: string, roleNames: string[], passwordHash: string | null = null) {
    const clean = login.trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(clean) || clean.length > 254) throw invalid(`login name "${login}" must look like an e-mail address`);
    return this.writes.run(who, async (w) => {
      const org = await orgByName(w.trx, orgName);
      const exists = await w.trx.selectFrom('users').select('id').where('login_key', '=', clean.toLowerCase()).executeTakeFirst();
      if (exists) throw conflict(`user "${clean}"`);
      const roles = [];
      for (const r of roleNames) roles.push(await this.roleByName(w, org.id, r));
      const user = { id: randomUUID(), organization_id: org.id, login_name: clean, login_key: clean.toLowerCase(), enabled: 1, password_hash: passwordHash, created_at: w.now() };
      await w.trx.insertInto('users').values(user).execute();
      if (roles.length) await w.trx.insertInto('user_roles').values(roles.map((r) => ({ user_id: user.id, role_id: r.id }))).execute();
      // The login may be cached as absent (an organization token call named it before it existed).
      await w.changed(cacheKeys.login(user.login_key));
      await w.audit({ action: 'user.create', targetKind: 'user', targetId: user.id, organizationId: org.id, detail: { roles: roleNames } });
      return { id: user.id, organizationId: org.id, loginName: clean, enabled: true, roles: roleNames };
    });
  }

  async setUserEnabled(who: Actor, login: string, enabled: boolean) {
    return this.writes.run(who, async (w) => {
      const user = await userByLogin(w.trx, login);
      await w.trx.updateTable('users').set({ enabled: enabled ? 1 : 0 }).where('id', '=', user.id).execute();
      await w.changed(cacheKeys.user(user.id));
      // A disabled user's OAuth grants are revoked, not just paused (issue 7).
      if (!enabled) await revokeGrantsWhere(w, 'user_id', user.id);
      await w.audit({ action: enabled ? 'user.enable' : 'user.disable', targetKind: 'user', targetId: user.id, organizationId: user.organization_id });
      return { id: user.id, loginName: user.login_name, enabled };
    });
  }

  async assignRole(who: Actor, login: string, roleName: string, assigned = true) {
    return this.writes.run(who, async (w) => {
      const user = await userByLogin(w.trx, login);
      const role = await this.roleByName(w, user.organization_id, roleName);
      await w.trx.deleteFrom('user_roles').where('user_id', '=', user.id).where('role_id', '=', role.id).execute();
      if (assigned) await w.trx.insertInto('user_roles').values({ user_id: user.id, role_id: role.id }).execute();
      await w.changed(cacheKeys.user(user.id));
      await w.audit({ action: assigned ? 'user.role.assign' : 'user.role.remove', targetKind: 'user', targetId: user.id, organizationId: user.organization_id, detail: { role: roleName } });
      return { id: user.id, loginName: user.login_name, role: roleName, assigned };
    });
  }

  /** Sets (or with null, removes) a user's local sign-in password hash; never the password itself. */
  async setUserPasswordHash(who: Actor, userId: string, passwordHash: string | null): Promise<void> {
    await this.writes.run(who, async (w) => {
      const user = await w.trx.selectFrom('users').select(['id', 'organization_id']).where('id', '=', userId).executeTakeFirst();
      if (!user) throw notFound(`user "${userId}"`);
      await w.trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
      await w.audit({ action: passwordHash ? 'user.password.set' : 'user.password.clear', targetKind: 'user', targetId: userId, organizationId: user.organization_id });
    });
  }

  // --- user API tokens -------------------------------------------------------------------------

  /** Creates a token and returns its secret: the only time it exists outside the caller's hands. */
  async createApiToken(who: Actor, login: string, name: string, opts: { enabled?: boolean; expiresAt?: string | null; restrictions?: RestrictionsInput | null } = {}) {
    const clean = checkName(name, 'token name');
    const expiresAt = opts.expiresAt ?? null;
    if (expiresAt !== null && Number.isNaN(Date.parse(expiresAt))) throw invalid(`expiry "${expiresAt}" is not a date`);
    const restrictions = checkedRestrictions(opts.restrictions);
    const secret = mintToken('user');
    const view = await this.writes.run(who, async (w) => {
      const user = await userByLogin(w.trx, login);
      await checkTokenLifetime(w.trx, user.organization_id, expiresAt);
      return this.insertToken(w, user, clean, secret, 'minted', opts.enabled ?? false, expiresAt && new Date(expiresAt).toISOString(), restrictions);
    });
    return { token: view, secret };
  }

  /**
   * Sets what a token is restricted to, replacing what it was (null: unrestricted). Audited with
   * the old and the new restrictions; every instance refuses by the new ones within the usual
   * propagation bound (the cached record is evicted, under each of its secrets).
   */
  async restrictApiToken(who: Actor, id: string, input: RestrictionsInput | null): Promise<ApiTokenView> {
    const restrictions = checkedRestrictions(input);
    return this.writes.run(who, async (w) => {
      const token = await apiTokenById(w.trx, id);
      const stored = restrictions ? JSON.stringify(restrictions) : null;
      await w.trx.updateTable('api_tokens').set({ restrictions: stored }).where('id', '=', id).execute();
      const user = await w.trx.selectFrom('users').select(['login_name', 'organization_id']).where('id', '=', token.user_id).executeTakeFirstOrThrow();
      await w.changed(...(await tokenCacheKeys(w, token)));
      const before = token.restrictions ? (JSON.parse(token.restrictions) as TokenRestrictions) : null;
      await w.audit({ action: 'token.restrict', targetKind: 'api_token', targetId: id, organizationId: user.organization_id, detail: { from: before, to: restrictions } });
      return toView({ ...token, restrictions: stored }, user.login_name);
    });
  }

  private async insertToken(
    w: WriteContext,
    user: { id: string; login_name: string; organization_id: string },
    name: string,
    secret: string,
    origin: 'minted' | 'legacy',
    enabled: boolean,
    expiresAt: string | null,
    restrictions: TokenRestrictions | null = null,
  ): Promise<ApiTokenView> {
    const dup = await w.trx.selectFrom('api_tokens').select('id').where('user_id', '=', user.id).where('name', '=', name).executeTakeFirst();
    if (dup) throw conflict(`token named "${name}" for ${user.login_name}`);
    const hash = hashToken(secret);
    const taken = await w.trx.selectFrom('api_tokens').select('id').where('token_hash', '=', hash).executeTakeFirst();
    if (taken) throw conflict('a token with this value');
    const row = { ...newTokenRow(w, { name, hash, hint: tokenHint(secret), origin, enabled }), user_id: user.id, expires_at: expiresAt, restrictions: restrictions && JSON.stringify(restrictions) };
    await w.trx.insertInto('api_tokens').values(row).execute();
    // A negative-cache entry for this hash may exist (someone tried it before it existed).
    await w.changed(cacheKeys.token(hash));
    await w.audit({ action: origin === 'legacy' ? 'token.import' : 'token.create', targetKind: 'api_token', targetId: row.id, organizationId: user.organization_id, detail: restrictions ? { name, enabled, restrictions } : { name, enabled } });
    return toView(row, user.login_name);
  }

  async listApiTokens(login: string): Promise<ApiTokenView[]> {
    const user = await userByLogin(this.db, login);
    const rows = await this.db.selectFrom('api_tokens').selectAll().where('user_id', '=', user.id).orderBy('created_at').orderBy('name').execute();
    return rows.map((r) => toView(r, user.login_name));
  }

  async setApiTokenEnabled(who: Actor, id: string, enabled: boolean): Promise<ApiTokenView> {
    return this.writes.run(who, async (w) => {
      const token = await apiTokenById(w.trx, id);
      await w.trx.updateTable('api_tokens').set({ enabled: enabled ? 1 : 0 }).where('id', '=', id).execute();
      const user = await w.trx.selectFrom('users').select(['login_name', 'organization_id']).where('id', '=', token.user_id).executeTakeFirstOrThrow();
      await w.changed(...(await tokenCacheKeys(w, token)));
      await w.audit({ action: enabled ? 'token.enable' : 'token.disable', targetKind: 'api_token', targetId: id, organizationId: user.organization_id });
      return toView({ ...token, enabled: enabled ? 1 : 0 }, user.login_name);
    });
  }

  async setApiTokenExpiry(who: Actor, id: string, expiresAt: string | null): Promise<void> {
    if (expiresAt !== null && Number.isNaN(Date.parse(expiresAt))) throw invalid(`expiry "${expiresAt}" is not a date`);
    await this.writes.run(who, async (w) => {
      const token = await apiTokenById(w.trx, id);
      const owner = await w.trx.selectFrom('users').select('organization_id').where('id', '=', token.user_id).executeTakeFirstOrThrow();
      await checkTokenLifetime(w.trx, owner.organization_id, expiresAt);
      await w.trx.updateTable('api_tokens').set({ expires_at: expiresAt && new Date(expiresAt).toISOString() }).where('id', '=', id).execute();
      await w.changed(...(await tokenCacheKeys(w, token)));
      await w.audit({ action: 'token.expiry', targetKind: 'api_token', targetId: id, organizationId: owner.organization_id, detail: { expiresAt } });
    });
  }

  async renameApiToken(who: Actor, id: string, name: string): Promise<ApiTokenView> {
    const clean = checkName(name, 'token name');
    return this.writes.run(who, async (w) => {
      const token = await apiTokenById(w.trx, id);
      const dup = await w.trx.selectFrom('api_tokens').select('id').where('user_id', '=', token.user_id).where('name', '=', clean).where('id', '!=', id).executeTakeFirst();
      if (dup) throw conflict(`token named "${clean}"`);
      await w.trx.updateTable('api_tokens').set({ name: clean }).where('id', '=', id).execute();
      const user = await w.trx.selectFrom('users').select(['login_name', 'organization_id']).where('id', '=', token.user_id).executeTakeFirstOrThrow();
      // The cached token record carries its name (it is shown in the identity header's audit trail).
      await w.changed(...(await tokenCacheKeys(w, token)));
      await w.audit({ action: 'token.rename', targetKind: 'api_token', targetId: id, organizationId: user.organization_id, detail: { from: token.name, to: clean } });
      return toView({ ...token, name: clean }, user.login_name);
    });
  }

  async deleteApiToken(who: Actor, id: string): Promise<void> {
    await this.writes.run(who, async (w) => {
      const token = await apiTokenById(w.trx, id);
      const keys = await tokenCacheKeys(w, token); // before the delete takes the earlier secrets with it
      const owner = await w.trx.selectFrom('users').select('organization_id').where('id', '=', token.user_id).executeTakeFirstOrThrow();
      await w.trx.deleteFrom('api_tokens').where('id', '=', id).execute();
      await w.changed(...keys);
      await w.audit({ action: 'token.delete', targetKind: 'api_token', targetId: id, organizationId: owner.organization_id, detail: { name: token.name } });
    });
  }

  /**
   * Imports the platform's existing tokens, all or nothing: every row is checked first, and one
   * bad row (reported with its line number) leaves the store untouched.
   */
  async importLegacyTokens(who: Actor, rows: LegacyTokenRow[], enabled = true): Promise<ApiTokenView[]> {
    for (const r of rows) {
      const shape = checkTokenShape(r.token);
      if (!shape.ok || shape.kind !== 'legacy') throw invalid(`line ${r.line}: token must be 64 to 66 lower-case letters and digits`);
      try {
        checkName(r.name, 'token name');
      } catch (e) {
        throw invalid(`line ${r.line}: ${(e as Error).message}`);
      }
    }
    return this.writes.run(who, async (w) => {
      const out: ApiTokenView[] = [];
      for (const r of rows) {
        try {
          const user = await userByLogin(w.trx, r.login);
          out.push(await this.insertToken(w, user, r.name.trim(), r.token, 'legacy', enabled, null));
        } catch (e) {
          throw invalid(`line ${r.line}: ${(e as Error).message}`);
        }
      }
      return out;
    });
  }

  /** Drops change-feed rows older than `maxAgeMs`: every follower has long read them. */
  async pruneChanges(maxAgeMs: number): Promise<void> {
    await this.db.deleteFrom('changes').where('at', '<', new Date(Date.now() - maxAgeMs).toISOString()).execute();
  }
}

function toView(
  r: Omit<Database['api_tokens'], 'token_hash'> & { token_hash?: string },
  loginName: string,
): ApiTokenView {
  return {
    id: r.id,
    userId: r.user_id,
    loginName,
    name: r.name,
    hint: r.hint,
    origin: r.origin,
    enabled: r.enabled === 1,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    lastUsedIp: r.last_used_ip,
    restrictions: r.restrictions ? (JSON.parse(r.restrictions) as TokenRestrictions) : null,
  };
}

/** Restrictions checked and normalized, or the 400 that says what is wrong. */
function checkedRestrictions(input: RestrictionsInput | null | undefined): TokenRestrictions | null {
  const checked = checkRestrictions(input);
  if (!checked.ok) throw invalid(checked.message);
  return checked.value;
}

/**
 * Every key a token's record is cached under: its secret's hash, and the hash of each earlier secret
 * of a rolled token still in its overlap — a change must reach calls made with either.
 */
export async function tokenCacheKeys(w: WriteContext, token: { id: string; token_hash: string }): Promise<string[]> {
  const earlier = await w.trx.selectFrom('api_token_secrets').select('token_hash').where('token_id', '=', token.id).execute();
  return [token.token_hash, ...earlier.map((r) => r.token_hash)].map((h) => cacheKeys.token(h));
}
