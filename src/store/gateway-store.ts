// store/: the read side that the request pipeline needs (the "model", in node-oauth2-server's
// sense), implemented once in Kysely for SQLite and PostgreSQL.
import type { Kysely } from 'kysely';
import type { Database } from './tables.js';
import type { ApiTokenRecord, Change, GrantRecord, LoginRecord, OrgApiTokenRecord, OrganizationRecord, RoleRecord, UserRecord } from './records.js';

/** One token's latest use, as batched by store/last-used.ts. */
export interface TokenUse {
  id: string;
  /** ISO-8601. */
  at: string;
  ip: string | null;
}

export interface GatewayStore {
  findApiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined>;
  findUser(id: string): Promise<UserRecord | undefined>;
  findRole(id: string): Promise<RoleRecord | undefined>;
  findOrganization(id: string): Promise<OrganizationRecord | undefined>;
  findOrgTokenByHash(hash: string): Promise<OrgApiTokenRecord | undefined>;
  /** The user with this login name, compared case-insensitively (`loginKey` is lower-cased). */
  findUserIdByLogin(loginKey: string): Promise<LoginRecord | undefined>;
  /** An OAuth grant (revoked ones too: the edge refuses them). */
  findGrant(id: string): Promise<GrantRecord | undefined>;
  /** Changes after `cursor`, oldest first, at most `limit`. */
  changesSince(cursor: number, limit?: number): Promise<Change[]>;
  /** The newest change id, where a new follower starts. */
  latestChangeId(): Promise<number>;
  /** Writes a batch of token uses; an older use never overwrites a newer one (several instances flush). */
  recordTokenUse(uses: readonly TokenUse[]): Promise<void>;
}

export class GatewayStoreKysely implements GatewayStore {
  constructor(private readonly db: Kysely<Database>) {}

  async findApiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    const cols = ['api_tokens.id', 'user_id', 'name', 'hint', 'origin', 'enabled', 'api_tokens.expires_at', 'revoked_at'] as const;
    const row = await this.db.selectFrom('api_tokens').select(cols).where('token_hash', '=', hash).executeTakeFirst();
    if (row) return apiTokenRecord(row, null);
    // An earlier secret of a rolled token: the same record, with the time that secret stops.
    const rolled = await this.db
      .selectFrom('api_token_secrets')
      .innerJoin('api_tokens', 'api_tokens.id', 'api_token_secrets.token_id')
      .select([...cols, 'api_token_secrets.expires_at as secret_expires_at'])
      .where('api_token_secrets.token_hash', '=', hash)
      .executeTakeFirst();
    return rolled && apiTokenRecord(rolled, rolled.secret_expires_at);
  }

  async findUser(id: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'organization_id', 'login_name', 'enabled'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const roles = await this.db.selectFrom('user_roles').select('role_id').where('user_id', '=', id).execute();
    return {
      id: row.id,
      organizationId: row.organization_id,
      loginName: row.login_name,
      enabled: row.enabled === 1,
      roleIds: roles.map((r) => r.role_id).sort(),
    };
  }

  async findRole(id: string): Promise<RoleRecord | undefined> {
    const row = await this.db
      .selectFrom('roles')
      .select(['id', 'organization_id', 'name'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const perms = await this.db
      .selectFrom('role_permissions')
      .select(['permission', 'effect'])
      .where('role_id', '=', id)
      .execute();
    return {
      id: row.id,
      organizationId: row.organization_id,
      name: row.name,
      permissions: Object.fromEntries(perms.map((p) => [p.permission, p.effect])),
    };
  }

  async findOrganization(id: string): Promise<OrganizationRecord | undefined> {
    const row = await this.db
      .selectFrom('organizations')
      .select(['id', 'name', 'feature_flags'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    return { id: row.id, name: row.name, featureFlags: JSON.parse(row.feature_flags) as string[] };
  }

  async findOrgTokenByHash(hash: string): Promise<OrgApiTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('org_api_tokens')
      .select(['id', 'organization_id', 'name', 'hint', 'enabled', 'revoked_at'])
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    return { id: row.id, organizationId: row.organization_id, name: row.name, hint: row.hint, enabled: row.enabled === 1, revoked: !!row.revoked_at };
  }

  async findUserIdByLogin(loginKey: string): Promise<LoginRecord | undefined> {
    const row = await this.db.selectFrom('users').select('id').where('login_key', '=', loginKey).executeTakeFirst();
    return row && { userId: row.id };
  }

  async findGrant(id: string): Promise<GrantRecord | undefined> {
    const row = await this.db.selectFrom('oauth_grants').select(['id', 'client_id', 'user_id', 'revoked_at']).where('id', '=', id).executeTakeFirst();
    return row && { id: row.id, clientId: row.client_id, userId: row.user_id, revoked: row.revoked_at !== null };
  }

  async changesSince(cursor: number, limit = 1000): Promise<Change[]> {
    const rows = await this.db
      .selectFrom('changes')
      .select(['id', 'cache_key'])
      .where('id', '>', cursor)
      .orderBy('id')
      .limit(limit)
      .execute();
    // PostgreSQL returns bigserial as a string.
    return rows.map((r) => ({ id: Number(r.id), cacheKey: r.cache_key }));
  }

  async latestChangeId(): Promise<number> {
    const row = await this.db
      .selectFrom('changes')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  async recordTokenUse(uses: readonly TokenUse[]): Promise<void> {
    if (uses.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const u of uses) {
        await trx
          .updateTable('api_tokens')
          .set({ last_used_at: u.at, last_used_ip: u.ip })
          .where('id', '=', u.id)
          .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', u.at)]))
          .execute();
      }
      // The last few distinct addresses per token, so a user can tell which integration still uses it.
      const withIp = uses.filter((u): u is TokenUse & { ip: string } => u.ip !== null);
      for (const u of withIp) {
        const known = await trx.selectFrom('api_tokens').select('id').where('id', '=', u.id).executeTakeFirst();
        if (!known) continue; // deleted meanwhile
        await trx
          .insertInto('token_usage_ips')
          .values({ token_id: u.id, ip: u.ip, last_at: u.at })
          .onConflict((oc) => oc.columns(['token_id', 'ip']).doUpdateSet({ last_at: u.at }).where('token_usage_ips.last_at', '<', u.at))
          .execute();
      }
      for (const id of new Set(withIp.map((u) => u.id))) {
        const keep = trx.selectFrom('token_usage_ips').select('ip').where('token_id', '=', id).orderBy('last_at', 'desc').limit(USAGE_IPS_KEPT);
        await trx.deleteFrom('token_usage_ips').where('token_id', '=', id).where('ip', 'not in', keep).execute();
      }
    });
  }
}

/** How many distinct client addresses are kept per token. */
export const USAGE_IPS_KEPT = 5;

function apiTokenRecord(
  row: { id: string; user_id: string; name: string; hint: string; origin: 'minted' | 'legacy'; enabled: number; expires_at: string | null; revoked_at?: string | null },
  secretExpiresAt: string | null,
): ApiTokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    hint: row.hint,
    origin: row.origin,
    enabled: row.enabled === 1,
    expiresAt: row.expires_at,
    revoked: !!row.revoked_at,
    secretExpiresAt,
  };
}
