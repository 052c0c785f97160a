// store/: the read side that the request pipeline needs (the "model", in node-oauth2-server's
// sense), implemented once in Kysely for SQLite and PostgreSQL.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { LegacyOrgKeyForm } from '../tokens/token-format.js';
import type { TokenRestrictions } from '../permissions/restrictions.js';
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
  /** The legacy forms of which at least one organization key is imported (enabled or not). */
  legacyOrgKeyForms(): Promise<LegacyOrgKeyForm[]>;
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
  /** The same for organization tokens (last use and address only; no address history). */
  recordOrgTokenUse(uses: readonly TokenUse[]): Promise<void>;
}

export class GatewayStoreKysely implements GatewayStore {
  constructor(private readonly db: Kysely<Database>) {}

  async findApiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    const cols = ['api_tokens.id', 'user_id', 'name', 'hint', 'origin', 'enabled', 'api_tokens.expires_at', 'revoked_at', 'restrictions'] as const;
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
    // The roles are read whether the user exists or not: an absent user costs the queries a present
    // one does (an unknown login's stand-in, credentials/org-token.ts, must take as long as a real user).
    const roles = await this.db.selectFrom('user_roles').select('role_id').where('user_id', '=', id).execute();
    if (!row) return undefined;
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

  async legacyOrgKeyForms(): Promise<LegacyOrgKeyForm[]> {
    const rows = await this.db.selectFrom('org_api_tokens').select('origin').distinct().where('origin', '!=', 'minted').execute();
    return rows.map((r) => r.origin.slice('legacy-'.length) as LegacyOrgKeyForm);
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

  /** The same for organization tokens: their last use and address only, no address history. */
  async recordOrgTokenUse(uses: readonly TokenUse[]): Promise<void> {
    if (uses.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < uses.length; i += USES_PER_STATEMENT) await setLastUsed(trx, 'org_api_tokens', uses.slice(i, i + USES_PER_STATEMENT));
    });
  }

  /**
   * Writes a batch of uses in a few statements per chunk of tokens, not a few per token: the
   * benchmark found the per-token form (four statements each) costing seconds of database time
   * per flush with thousands of active tokens, enough to slow every instance sharing the store.
   * `VALUES` columns are `column1..3` in both SQLite and PostgreSQL.
   */
  async recordTokenUse(uses: readonly TokenUse[]): Promise<void> {
    if (uses.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < uses.length; i += USES_PER_STATEMENT) {
        const chunk = uses.slice(i, i + USES_PER_STATEMENT);
        await setLastUsed(trx, 'api_tokens', chunk);

        // The last few distinct addresses per token, so a user can tell which integration still uses it.
        const withIp = chunk.filter((u): u is TokenUse & { ip: string } => u.ip !== null);
        if (withIp.length === 0) continue;
        const ipValues = sql.join(withIp.map((u) => sql`(${u.id}, ${u.ip}, ${u.at})`));
        // The join skips tokens deleted meanwhile; `where true` lets SQLite parse ON CONFLICT after a SELECT
        await sql`insert into token_usage_ips (token_id, ip, last_at)
          select v.column1, v.column2, v.column3 from (values ${ipValues}) as v join api_tokens t on t.id = v.column1 where true
          on conflict (token_id, ip) do update set last_at = excluded.last_at where token_usage_ips.last_at < excluded.last_at`.execute(trx);
        // Keep the newest USAGE_IPS_KEPT per token (ties broken by address, so exactly that many)
        const ids = sql.join([...new Set(withIp.map((u) => u.id))]);
        await sql`delete from token_usage_ips where token_id in (${ids})
          and (select count(*) from token_usage_ips newer
               where newer.token_id = token_usage_ips.token_id
                 and (newer.last_at > token_usage_ips.last_at or (newer.last_at = token_usage_ips.last_at and newer.ip > token_usage_ips.ip))) >= ${USAGE_IPS_KEPT}`.execute(trx);
      }
    });
  }
}

/** Uses written per statement: 3 parameters each, well under SQLite's and PostgreSQL's limits. */
const USES_PER_STATEMENT = 500;

/** One UPDATE for a chunk of uses of `table`'s tokens; never moves a last use backwards (an older batch retried after a newer one). */
function setLastUsed(trx: Transaction<Database>, table: 'api_tokens' | 'org_api_tokens', chunk: readonly TokenUse[]) {
  const values = sql.join(chunk.map((u) => sql`(${u.id}, ${u.at}, ${u.ip})`));
  const column = (name: string) => sql.ref(`${table}.${name}`);
  return sql`update ${sql.table(table)} set last_used_at = v.column2, last_used_ip = v.column3
    from (values ${values}) as v
    where ${column('id')} = v.column1 and (${column('last_used_at')} is null or ${column('last_used_at')} < v.column2)`.execute(trx);
}

/** How many distinct client addresses are kept per token. */
export const USAGE_IPS_KEPT = 5;

function apiTokenRecord(
  row: { id: string; user_id: string; name: string; hint: string; origin: 'minted' | 'legacy'; enabled: number; expires_at: string | null; revoked_at?: string | null; restrictions?: string | null },
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
    restrictions: row.restrictions ? (JSON.parse(row.restrictions) as TokenRestrictions) : null,
  };
}
