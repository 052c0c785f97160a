// settings/: persistence of sign-in sessions and one-time set-password links (migration
// 0002_settings_sessions). Only SHA-256 hashes of the cookie value and of the link token are
// stored, so a copy of the database signs nobody in.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { hashToken } from '../tokens/token-format.js';
import type { Database } from '../store/tables.js';

type SettingsTables = {
  settings_sessions: {
    id_hash: string;
    user_id: string;
    csrf_token: string;
    /** `password`, `link` or `platform`: how the user signed in. */
    source: string;
    created_at: string;
    expires_at: string;
  };
  settings_password_links: {
    token_hash: string;
    user_id: string;
    created_at: string;
    expires_at: string;
  };
};

export interface Session {
  userId: string;
  loginName: string;
  organizationId: string;
  csrfToken: string;
  expiresAt: string;
}

export type SessionLookup = { ok: true; session: Session } | { ok: false; reason: 'unknown' | 'expired' };

const secret = () => randomBytes(32).toString('base64url');

export class SessionStore {
  private readonly db: Kysely<Database & SettingsTables>;

  constructor(
    db: Kysely<Database>,
    private readonly ttl: { sessionMs: number; linkMs: number },
  ) {
    this.db = db.withTables<SettingsTables>();
  }

  /** The same store over `db` — a transaction the caller holds open (the first run). */
  within(db: Kysely<Database>): SessionStore {
    return new SessionStore(db, this.ttl);
  }

  /** Starts a session; the returned id is the cookie value and exists nowhere else. */
  async create(userId: string, source: string): Promise<{ id: string; csrfToken: string; expiresAt: string }> {
    const id = secret();
    const row = {
      id_hash: hashToken(id),
      user_id: userId,
      csrf_token: secret(),
      source,
      created_at: new Date().toISOString(),
      expires_at: new Date(Date.now() + this.ttl.sessionMs).toISOString(),
    };
    await this.db.insertInto('settings_sessions').values(row).execute();
    return { id, csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  /** The live session of a cookie value; a disabled user has none. */
  async find(id: string): Promise<SessionLookup> {
    const row = await this.db
      .selectFrom('settings_sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['s.user_id', 's.csrf_token', 's.expires_at', 'u.login_name', 'u.organization_id', 'u.enabled'])
      .where('s.id_hash', '=', hashToken(id))
      .executeTakeFirst();
    if (!row || row.enabled !== 1) return { ok: false, reason: 'unknown' };
    if (Date.parse(row.expires_at) <= Date.now()) {
      await this.destroy(id);
      return { ok: false, reason: 'expired' };
    }
    return {
      ok: true,
      session: { userId: row.user_id, loginName: row.login_name, organizationId: row.organization_id, csrfToken: row.csrf_token, expiresAt: row.expires_at },
    };
  }

  async destroy(id: string): Promise<void> {
    await this.db.deleteFrom('settings_sessions').where('id_hash', '=', hashToken(id)).execute();
  }

  /** Ends every session of a user (after a password change). */
  async destroyAllOf(userId: string): Promise<void> {
    await this.db.deleteFrom('settings_sessions').where('user_id', '=', userId).execute();
  }

  /** The user a sign-in names (login names are unique case-insensitively). */
  async findUserByLogin(login: string): Promise<{ id: string; enabled: boolean; passwordHash: string | null } | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'enabled', 'password_hash'])
      .where('login_key', '=', login.trim().toLowerCase())
      .executeTakeFirst();
    return row && { id: row.id, enabled: row.enabled === 1, passwordHash: row.password_hash };
  }

  /** A one-time token for a set-password link; only its hash is kept. */
  async createPasswordLink(userId: string): Promise<{ token: string; expiresAt: string }> {
    const token = secret();
    const expiresAt = new Date(Date.now() + this.ttl.linkMs).toISOString();
    await this.db
      .insertInto('settings_password_links')
      .values({ token_hash: hashToken(token), user_id: userId, created_at: new Date().toISOString(), expires_at: expiresAt })
      .execute();
    return { token, expiresAt };
  }

  /** Spends a link token: deleted in the same statement that reads it, so it works once. */
  async consumePasswordLink(token: string): Promise<string | undefined> {
    const row = await this.db
      .deleteFrom('settings_password_links')
      .where('token_hash', '=', hashToken(token))
      .returning(['user_id', 'expires_at'])
      .executeTakeFirst();
    if (!row || Date.parse(row.expires_at) <= Date.now()) return undefined;
    return row.user_id;
  }

  /** Drops expired sessions and links. */
  async prune(): Promise<void> {
    const now = new Date().toISOString();
    await this.db.deleteFrom('settings_sessions').where('expires_at', '<=', now).execute();
    await this.db.deleteFrom('settings_password_links').where('expires_at', '<=', now).execute();
  }
}
