// store/: the token lifecycle writes and reads (issue 10) — rolling a user token to a new secret
// with an overlap for the old one, the organization's maximum token lifetime, revoking tokens
// reported as leaked, the last distinct client addresses, and reading the audit trail.
// Every write runs in the shared write context (write-context.ts): the cache keys it invalidates go
// to the change feed and an audit event to the trail in the same transaction, so every instance
// sees it on its next request.
import type { Kysely } from 'kysely';
import { checkTokenShape, hashToken, mintToken, tokenHint } from '../tokens/token-format.js';
import { cacheKeys } from './change-keys.js';
import { invalid } from './errors.js';
import { apiTokenById, orgByName, userByLogin } from './names.js';
import type { Database } from './tables.js';
import { writesOn, type Actor, type Writes } from './write-context.js';

/** The database or a write's transaction. */
type Db = Kysely<Database>;
const DAY_MS = 86_400_000;

/** How long the old secret of a rolled token keeps working: the choices the page, API and CLI offer. */
export const ROLL_OVERLAPS = { now: 0, '1h': 3_600_000, '24h': DAY_MS, '7d': 7 * DAY_MS } as const;
export type RollOverlap = keyof typeof ROLL_OVERLAPS;
export const isRollOverlap = (v: string): v is RollOverlap => Object.hasOwn(ROLL_OVERLAPS, v);

/** The longest maximum lifetime an organization may set (about 10 years). */
export const MAX_LIFETIME_DAYS = 3650;

/**
 * A new token's expiry must lie within its organization's maximum lifetime (none = no rule).
 * Throws `invalid` with a message that names the limit.
 */
export async function checkTokenLifetime(db: Db, organizationId: string, expiresAt: string | null, now = Date.now()): Promise<void> {
  const org = await db.selectFrom('organizations').select('max_token_lifetime_days').where('id', '=', organizationId).executeTakeFirst();
  const days = org?.max_token_lifetime_days ?? null;
  if (days === null) return;
  if (expiresAt === null) throw invalid(`your organization requires an expiry within ${days} days`);
  if (Date.parse(expiresAt) > now + days * DAY_MS) throw invalid(`expiry is beyond your organization's maximum token lifetime of ${days} days`);
}

export interface LeakReport {
  token: string;
  /** Where it was found (kept in the audit detail). */
  url?: string;
  source?: string;
}

/** The answer for one reported string: whether it was a live token, never whose. */
export interface LeakOutcome {
  /** `gtu_…abcd`, so the reporter can match answers to findings without the secret echoed back. */
  hint: string;
  live: boolean;
  outcome: 'revoked' | 'already-revoked' | 'unknown' | 'malformed';
}

export interface AuditFilter {
  organizationId?: string;
  /** Events about this user, about their tokens, or done by them. */
  userId?: string;
  tokenId?: string;
  since?: string;
  until?: string;
  limit?: number;
}

export interface AuditEventView {
  id: number;
  at: string;
  actor: string;
  action: string;
  targetKind: string;
  targetId: string;
  organizationId: string | null;
  source: string | null;
  detail: unknown;
}

/** A token found by a reported secret, and what revoking it touches. */
interface LeakedToken {
  table: 'api_tokens' | 'org_api_tokens';
  id: string;
  revokedAt: string | null;
  organizationId: string | null;
  /** The cache keys of every secret that resolves to it. */
  keys: string[];
  action: 'token.revoke' | 'org-token.revoke';
  targetKind: 'api_token' | 'org_api_token';
}

export class TokenLifecycle {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly writes: Writes = writesOn(db),
  ) {}

  /**
   * Mints a new secret for the same token record (same id, name, settings); the old secret keeps
   * working until now + `overlap`. Earlier rolled secrets keep their own expiry.
   */
  async rollApiToken(who: Actor, id: string, overlap: RollOverlap): Promise<{ secret: string; oldSecretExpiresAt: string; hint: string }> {
    if (!isRollOverlap(overlap)) throw invalid(`old secret expiry must be one of ${Object.keys(ROLL_OVERLAPS).join(', ')}`);
    const secret = mintToken('user');
    const hash = hashToken(secret);
    return this.writes.run(who, async (w) => {
      const token = await apiTokenById(w.trx, id);
      if (token.revoked_at) throw invalid('a revoked token cannot be rolled; create a new one');
      const user = await w.trx.selectFrom('users').select('organization_id').where('id', '=', token.user_id).executeTakeFirstOrThrow();
      const at = w.now();
      const oldSecretExpiresAt = new Date(Date.parse(at) + ROLL_OVERLAPS[overlap]).toISOString();
      // Rolled secrets that already stopped are of no use any more.
      await w.trx.deleteFrom('api_token_secrets').where('token_id', '=', id).where('expires_at', '<=', at).execute();
      if (ROLL_OVERLAPS[overlap] > 0) {
        await w.trx.insertInto('api_token_secrets').values({ token_hash: token.token_hash, token_id: id, expires_at: oldSecretExpiresAt, created_at: at }).execute();
      }
      await w.trx.updateTable('api_tokens').set({ token_hash: hash, hint: tokenHint(secret) }).where('id', '=', id).execute();
      // The old hash now resolves to the rolled secret (or nothing); the new one may be cached as absent.
      await w.changed(cacheKeys.token(token.token_hash), cacheKeys.token(hash));
      await w.audit({ action: 'token.roll', targetKind: 'api_token', targetId: id, organizationId: user.organization_id, detail: { oldSecretExpiresAt } });
      return { secret, oldSecretExpiresAt, hint: tokenHint(secret) };
    });
  }

  /** Sets (or with null, removes) an organization's maximum token lifetime in days. */
  async setMaxTokenLifetime(who: Actor, orgName: string, days: number | null): Promise<{ id: string; name: string; maxTokenLifetimeDays: number | null }> {
    if (days !== null && (!Number.isInteger(days) || days < 1 || days > MAX_LIFETIME_DAYS)) throw invalid(`days must be a whole number from 1 to ${MAX_LIFETIME_DAYS}, or none`);
    return this.writes.run(who, async (w) => {
      const org = await orgByName(w.trx, orgName);
      await w.trx.updateTable('organizations').set({ max_token_lifetime_days: days }).where('id', '=', org.id).execute();
      await w.audit({ action: 'organization.max-token-lifetime', targetKind: 'organization', targetId: org.id, organizationId: org.id, detail: { days } });
      return { id: org.id, name: org.name, maxTokenLifetimeDays: days };
    });
  }

  async maxTokenLifetime(organizationId: string): Promise<number | null> {
    const org = await this.db.selectFrom('organizations').select('max_token_lifetime_days').where('id', '=', organizationId).executeTakeFirst();
    return org?.max_token_lifetime_days ?? null;
  }

  /**
   * Revokes every live token among `tokens` (user and organization tokens, current or rolled
   * secrets). Shape and checksum first: a string that cannot be a token costs no look-up.
   */
  async revokeLeaked(who: Actor, findings: readonly LeakReport[]): Promise<LeakOutcome[]> {
    return this.writes.run(who, async (w) => {
      const out: LeakOutcome[] = [];
      for (const { token: t, ...report } of findings) {
        const shape = checkTokenShape(t);
        if (!shape.ok) {
          out.push({ hint: '', live: false, outcome: 'malformed' });
          continue;
        }
        const hint = tokenHint(t);
        const found = await findLeaked(w.trx, hashToken(t));
        if (!found || found.revokedAt) {
          out.push({ hint, live: false, outcome: found ? 'already-revoked' : 'unknown' });
          continue;
        }
        await w.trx.updateTable(found.table).set({ revoked_at: w.now(), revoked_reason: 'leaked' }).where('id', '=', found.id).execute();
        await w.changed(...found.keys);
        await w.audit({ action: found.action, targetKind: found.targetKind, targetId: found.id, organizationId: found.organizationId, detail: { reason: 'leaked', hint, ...report } });
        out.push({ hint, live: true, outcome: 'revoked' });
      }
      return out;
    });
  }

  /** The last few distinct client addresses of each token, newest first. */
  async usageIps(tokenIds: readonly string[]): Promise<Map<string, { ip: string; lastUsedAt: string }[]>> {
    const out = new Map<string, { ip: string; lastUsedAt: string }[]>();
    if (tokenIds.length === 0) return out;
    const rows = await this.db.selectFrom('token_usage_ips').selectAll().where('token_id', 'in', tokenIds).orderBy('last_at', 'desc').execute();
    for (const r of rows) {
      const list = out.get(r.token_id) ?? [];
      list.push({ ip: r.ip, lastUsedAt: r.last_at });
      out.set(r.token_id, list);
    }
    return out;
  }

  /** Revocation state of a user's tokens (the settings page marks revoked ones). */
  async revokedOf(tokenIds: readonly string[]): Promise<Map<string, string>> {
    if (tokenIds.length === 0) return new Map();
    const rows = await this.db.selectFrom('api_tokens').select(['id', 'revoked_at']).where('id', 'in', tokenIds).where('revoked_at', 'is not', null).execute();
    return new Map(rows.map((r) => [r.id, r.revoked_at!]));
  }

  /** Credential events, oldest first, filtered; a user filter covers events about them, their tokens, or by them. */
  async auditEvents(f: AuditFilter): Promise<AuditEventView[]> {
    let q = this.db.selectFrom('audit_events').selectAll();
    if (f.organizationId) q = q.where('organization_id', '=', f.organizationId);
    if (f.tokenId) q = q.where('target_id', '=', f.tokenId).where('target_kind', 'in', ['api_token', 'org_api_token']);
    if (f.userId) {
      const userId = f.userId;
      q = q.where((eb) =>
        eb.or([
          eb('actor', '=', `user:${userId}`),
          eb.and([eb('target_kind', '=', 'user'), eb('target_id', '=', userId)]),
          eb.and([eb('target_kind', '=', 'api_token'), eb('target_id', 'in', eb.selectFrom('api_tokens').select('api_tokens.id').where('api_tokens.user_id', '=', userId))]),
        ]),
      );
    }
    if (f.since) q = q.where('at', '>=', f.since);
    if (f.until) q = q.where('at', '<', f.until);
    const rows = await q.orderBy('id').limit(f.limit ?? 10_000).execute();
    return rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      actor: r.actor,
      action: r.action,
      targetKind: r.target_kind,
      targetId: r.target_id,
      organizationId: r.organization_id,
      source: r.source,
      detail: r.detail === null ? null : (JSON.parse(r.detail) as unknown),
    }));
  }

  /** Organization id by name, for the CLI's filters. */
  async organizationId(name: string): Promise<string> {
    return (await orgByName(this.db, name)).id;
  }

  async userId(login: string): Promise<string> {
    return (await userByLogin(this.db, login)).id;
  }
}

/** The user token (by its current or a rolled secret) or else the organization token whose secret hashes to `hash`. */
async function findLeaked(db: Db, hash: string): Promise<LeakedToken | undefined> {
  const user =
    (await db.selectFrom('api_tokens').select(['id', 'token_hash', 'revoked_at', 'user_id']).where('token_hash', '=', hash).executeTakeFirst()) ??
    (await db
      .selectFrom('api_token_secrets')
      .innerJoin('api_tokens', 'api_tokens.id', 'api_token_secrets.token_id')
      .select(['api_tokens.id', 'api_tokens.token_hash', 'api_tokens.revoked_at', 'api_tokens.user_id'])
      .where('api_token_secrets.token_hash', '=', hash)
      .executeTakeFirst());
  if (user) {
    const secrets = await db.selectFrom('api_token_secrets').select('token_hash').where('token_id', '=', user.id).execute();
    const owner = await db.selectFrom('users').select('organization_id').where('id', '=', user.user_id).executeTakeFirst();
    return {
      table: 'api_tokens',
      id: user.id,
      revokedAt: user.revoked_at ?? null,
      organizationId: owner?.organization_id ?? null,
      keys: [user.token_hash, ...secrets.map((s) => s.token_hash)].map(cacheKeys.token),
      action: 'token.revoke',
      targetKind: 'api_token',
    };
  }
  const org = await db.selectFrom('org_api_tokens').select(['id', 'organization_id', 'revoked_at']).where('token_hash', '=', hash).executeTakeFirst();
  return (
    org && { table: 'org_api_tokens', id: org.id, revokedAt: org.revoked_at ?? null, organizationId: org.organization_id, keys: [cacheKeys.orgToken(hash)], action: 'org-token.revoke', targetKind: 'org_api_token' }
  );
}
