// store/: the OAuth write side — clients, grants, codes, refresh tokens. Every write that changes
// what a credential may do runs in the store's shared write context (store/write-context.ts): it is
// audited and appends the cache keys it invalidates (`grant:<id>`) to the change feed in the same
// transaction, so revoking a grant stops its live access tokens on every instance on the next request.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { hashToken, mintToken } from '../tokens/token-format.js';
import { conflict, invalid, notFound } from './errors.js';
import { revokeGrantsWhere } from './grant-revocation.js';
import { checkName } from './names.js';
import type { Database, OAuthClientsTable } from './tables.js';
import { writesOn, type Actor, type Writes } from './write-context.js';

const iso = (ms = Date.now()) => new Date(ms).toISOString();

export const CODE_TTL_MS = 60_000;

export interface ClientView {
  id: string;
  name: string;
  description: string;
  logoUrl: string | null;
  redirectUris: string[];
  public: boolean;
  enabled: boolean;
  createdAt: string;
}

export interface AppView {
  grantId: string;
  clientId: string;
  name: string;
  description: string;
  logoUrl: string | null;
  scopes: string[];
  firstAuthorizedAt: string;
  lastUsedAt: string | null;
}

export const toClientView = (c: OAuthClientsTable): ClientView => ({
  id: c.id,
  name: c.name,
  description: c.description,
  logoUrl: c.logo_url,
  redirectUris: JSON.parse(c.redirect_uris) as string[],
  public: c.public === 1,
  enabled: c.enabled === 1,
  createdAt: c.created_at,
});

function checkRedirectUri(uri: string): string {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw invalid(`redirect URI "${uri}" is not an absolute URL`);
  }
  if (u.hash) throw invalid('a redirect URI must not have a fragment (RFC 6749 §3.1.2)');
  // Plain http only for loopback (RFC 8252 §7.3); custom schemes (apps) are allowed.
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  if (u.protocol === 'http:' && !loopback) throw invalid(`redirect URI "${uri}" must use https (http only for localhost)`);
  if (['javascript:', 'data:', 'file:'].includes(u.protocol)) throw invalid(`redirect URI scheme ${u.protocol} is not allowed`);
  return uri;
}

function checkLogo(url: string | undefined): string | null {
  if (!url) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(`logo "${url}" is not an absolute URL`);
  }
  if (u.protocol !== 'https:') throw invalid('the logo URL must use https');
  return url;
}

/** Constant-time comparison of a presented client secret with the stored hash. */
export function secretMatches(presented: string, storedHash: string | null): boolean {
  if (!storedHash) return false;
  const a = Buffer.from(hashToken(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** A new refresh token of the grant (and the grant's "last used"), inside the caller's transaction. */
async function issueRefreshTokenIn(trx: Transaction<Database>, grantId: string, scope: string, ttlMs: number): Promise<string> {
  const token = mintToken('refresh');
  await trx
    .insertInto('refresh_tokens')
    .values({ token_hash: hashToken(token), grant_id: grantId, scope, created_at: iso(), expires_at: iso(Date.now() + ttlMs), spent_at: null })
    .execute();
  await trx.updateTable('oauth_grants').set({ last_used_at: iso() }).where('id', '=', grantId).execute();
  return token;
}

export class OAuthStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly writes: Writes = writesOn(db),
  ) {}

  // --- clients ---------------------------------------------------------------------------------

  async registerClient(who: Actor, c: { name: string; redirectUris: string[]; public: boolean; description?: string; logoUrl?: string }) {
    const name = checkName(c.name, 'client name');
    const description = (c.description ?? '').trim();
    if (description.length > 500) throw invalid('description must be at most 500 characters');
    if (c.redirectUris.length === 0) throw invalid('give at least one --redirect-uri');
    const redirectUris = c.redirectUris.map(checkRedirectUri);
    const logo = checkLogo(c.logoUrl);
    const secret = c.public ? undefined : mintToken('clientSecret');
    const row: OAuthClientsTable = {
      id: randomUUID(),
      name,
      description,
      logo_url: logo,
      redirect_uris: JSON.stringify(redirectUris),
      public: c.public ? 1 : 0,
      secret_hash: secret ? hashToken(secret) : null,
      enabled: 1,
      created_at: iso(),
    };
    await this.writes.run(who, async (w) => {
      const dup = await w.trx.selectFrom('oauth_clients').select('id').where('name', '=', name).executeTakeFirst();
      if (dup) throw conflict(`OAuth client "${name}"`);
      await w.trx.insertInto('oauth_clients').values(row).execute();
      await w.audit({ action: 'oauth.client.register', targetKind: 'oauth_client', targetId: row.id, organizationId: null, detail: { name, public: c.public, redirectUris } });
    });
    return { client: toClientView(row), secret };
  }

  async listClients(): Promise<ClientView[]> {
    return (await this.db.selectFrom('oauth_clients').selectAll().orderBy('created_at').execute()).map(toClientView);
  }

  async findClient(id: string): Promise<OAuthClientsTable | undefined> {
    return this.db.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The redirect URIs of the enabled public clients (whose origins may call the token and revocation endpoints from a browser). */
  async publicRedirectUris(): Promise<string[]> {
    const rows = await this.db.selectFrom('oauth_clients').select('redirect_uris').where('public', '=', 1).where('enabled', '=', 1).execute();
    return rows.flatMap((r) => JSON.parse(r.redirect_uris) as string[]);
  }

  /** Disabling a client revokes every grant it holds (and so their refresh and access tokens). */
  async setClientEnabled(who: Actor, id: string, enabled: boolean): Promise<ClientView> {
    return this.writes.run(who, async (w) => {
      const c = await w.trx.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
      if (!c) throw notFound('OAuth client with this id');
      await w.trx.updateTable('oauth_clients').set({ enabled: enabled ? 1 : 0 }).where('id', '=', id).execute();
      if (!enabled) await revokeGrantsWhere(w, 'client_id', id);
      await w.audit({ action: enabled ? 'oauth.client.enable' : 'oauth.client.disable', targetKind: 'oauth_client', targetId: id, organizationId: null });
      return toClientView({ ...c, enabled: enabled ? 1 : 0 });
    });
  }

  async deleteClient(who: Actor, id: string): Promise<void> {
    await this.writes.run(who, async (w) => {
      const c = await w.trx.selectFrom('oauth_clients').select('id').where('id', '=', id).executeTakeFirst();
      if (!c) throw notFound('OAuth client with this id');
      await revokeGrantsWhere(w, 'client_id', id);
      const grants = w.trx.selectFrom('oauth_grants').select('id').where('client_id', '=', id);
      await w.trx.deleteFrom('refresh_tokens').where('grant_id', 'in', grants).execute();
      await w.trx.deleteFrom('oauth_codes').where('grant_id', 'in', grants).execute();
      await w.trx.deleteFrom('oauth_grants').where('client_id', '=', id).execute();
      await w.trx.deleteFrom('oauth_clients').where('id', '=', id).execute();
      await w.audit({ action: 'oauth.client.delete', targetKind: 'oauth_client', targetId: id, organizationId: null });
    });
  }

  // --- consent → code ----------------------------------------------------------------------------

  /** The user allowed the client: one grant per (user, client), its scope widened to what was asked. */
  async authorize(who: Actor, a: { userId: string; organizationId: string; clientId: string; scope: string; redirectUri: string; codeChallenge: string | null }) {
    const code = mintToken('code');
    const grantId = await this.writes.run(who, async (w) => {
      const existing = await w.trx
        .selectFrom('oauth_grants')
        .select(['id', 'scope'])
        .where('user_id', '=', a.userId)
        .where('client_id', '=', a.clientId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      let id: string;
      if (existing) {
        id = existing.id;
        const scope = [...new Set([...existing.scope.split(' '), ...a.scope.split(' ')])].sort().join(' ');
        if (scope !== existing.scope) await w.trx.updateTable('oauth_grants').set({ scope }).where('id', '=', id).execute();
      } else {
        id = randomUUID();
        await w.trx.insertInto('oauth_grants').values({ id, client_id: a.clientId, user_id: a.userId, scope: a.scope, created_at: w.now(), last_used_at: null, revoked_at: null }).execute();
        await w.audit({ action: 'oauth.grant.create', targetKind: 'oauth_grant', targetId: id, organizationId: a.organizationId, detail: { clientId: a.clientId, scope: a.scope } });
      }
      await w.trx
        .insertInto('oauth_codes')
        .values({ code_hash: hashToken(code), grant_id: id, client_id: a.clientId, redirect_uri: a.redirectUri, code_challenge: a.codeChallenge, scope: a.scope, expires_at: w.now(CODE_TTL_MS), used_at: null })
        .execute();
      return id;
    });
    return { code, grantId };
  }

  // --- token endpoint ----------------------------------------------------------------------------

  async findCode(code: string) {
    return this.db.selectFrom('oauth_codes').selectAll().where('code_hash', '=', hashToken(code)).executeTakeFirst();
  }

  /**
   * Redeems a code the caller has checked (client, redirect URI, PKCE, expiry, grant): spends it and
   * issues the grant's refresh token in one transaction, so a failure leaves the code unspent for the
   * client to retry. Undefined when it was already spent (a replay, or a concurrent exchange).
   */
  async redeemCode(codeHash: string, grantId: string, scope: string, refreshTtlMs: number): Promise<string | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('oauth_codes').set({ used_at: iso() }).where('code_hash', '=', codeHash).where('used_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return undefined;
      return issueRefreshTokenIn(trx, grantId, scope, refreshTtlMs);
    });
  }

  async findGrant(id: string) {
    return this.db.selectFrom('oauth_grants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async issueRefreshToken(grantId: string, scope: string, ttlMs: number): Promise<string> {
    return this.db.transaction().execute((trx) => issueRefreshTokenIn(trx, grantId, scope, ttlMs));
  }

  async findRefreshToken(token: string) {
    return this.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
  }

  /**
   * Rotation of a refresh token the caller has checked (client, expiry, grant, scope): spends it and
   * issues its successor, with `scope` (RFC 6749 §6: the scope of the one it replaces), in one
   * transaction. Undefined when it was already spent (reuse, or a concurrent refresh: the caller
   * revokes the grant).
   */
  async rotateRefreshToken(tokenHash: string, grantId: string, scope: string, refreshTtlMs: number): Promise<string | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('refresh_tokens').set({ spent_at: iso() }).where('token_hash', '=', tokenHash).where('spent_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return undefined;
      return issueRefreshTokenIn(trx, grantId, scope, refreshTtlMs);
    });
  }

  /**
   * Deletes codes and refresh tokens that expired before `before` (ISO time). Until then a spent
   * one presented again is still recognised as a replay; after it, it is only unknown.
   */
  async purgeExpired(before: string): Promise<{ codes: number; refreshTokens: number }> {
    const codes = await this.db.deleteFrom('oauth_codes').where('expires_at', '<', before).executeTakeFirst();
    const refresh = await this.db.deleteFrom('refresh_tokens').where('expires_at', '<', before).executeTakeFirst();
    return { codes: Number(codes.numDeletedRows), refreshTokens: Number(refresh.numDeletedRows) };
  }

  async revokeGrant(who: Actor, grantId: string, reason: string): Promise<boolean> {
    return this.writes.run(who, async (w) => {
      const g = await w.trx.selectFrom('oauth_grants').innerJoin('users', 'users.id', 'oauth_grants.user_id').select(['oauth_grants.id', 'oauth_grants.revoked_at', 'users.organization_id']).where('oauth_grants.id', '=', grantId).executeTakeFirst();
      if (!g || g.revoked_at) return false;
      await revokeGrantsWhere(w, 'id', grantId);
      await w.audit({ action: 'oauth.grant.revoke', targetKind: 'oauth_grant', targetId: grantId, organizationId: g.organization_id, detail: { reason } });
      return true;
    });
  }

  /** Throttled by the caller: the grant's "last used" for Apps and Connections. */
  async touchGrant(grantId: string): Promise<void> {
    await this.db.updateTable('oauth_grants').set({ last_used_at: iso() }).where('id', '=', grantId).execute();
  }

  // --- Apps and Connections ------------------------------------------------------------------------

  async appsOf(userId: string): Promise<AppView[]> {
    const rows = await this.db
      .selectFrom('oauth_grants')
      .innerJoin('oauth_clients', 'oauth_clients.id', 'oauth_grants.client_id')
      .select(['oauth_grants.id', 'oauth_grants.client_id', 'oauth_grants.scope', 'oauth_grants.created_at', 'oauth_grants.last_used_at', 'oauth_clients.name', 'oauth_clients.description', 'oauth_clients.logo_url'])
      .where('oauth_grants.user_id', '=', userId)
      .where('oauth_grants.revoked_at', 'is', null)
      .orderBy('oauth_grants.created_at')
      .execute();
    return rows.map((r) => ({
      grantId: r.id,
      clientId: r.client_id,
      name: r.name,
      description: r.description,
      logoUrl: r.logo_url,
      scopes: r.scope.split(' '),
      firstAuthorizedAt: r.created_at,
      lastUsedAt: r.last_used_at,
    }));
  }
}
