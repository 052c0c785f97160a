// store/: the write side of organization API tokens (deprecated) — create, list, enable, disable,
// delete — always on behalf of a named user of the organization, who must pass the management rule.
// The rule is the caller's to give (policy/org-token.ts judgeOrgTokenManagement, passed to the
// constructor): this store loads the facts it is judged on, in the write's own transaction, and
// acts on the verdict; it never decides. Every write runs in the shared write context
// (write-context.ts): the cache key it invalidates goes to the change feed and an audit event to the
// trail in the same transaction.
// The one operator-only write is `importLegacy`: the platform's own organization keys, brought over
// by the operator for an organization (as `token import-legacy` does for users' tokens).
import type { Kysely } from 'kysely';
import { canonicalOrgKey, hashToken, legacyOrgKeyForm, mintToken, tokenHint } from '../tokens/token-format.js';
import { cacheKeys } from './change-keys.js';
import { conflict, invalid, notFound, StoreError } from './errors.js';
import { checkName, NAME_MAX, orgByName, userByLogin } from './names.js';
import type { OrganizationRecord, RoleRecord, UserRecord } from './records.js';
import type { Database, OrgTokenOrigin } from './tables.js';
import { newTokenRow, type NewToken } from './token-rows.js';
import { writesOn, type Actor, type WriteContext, type Writes } from './write-context.js';

/** Why a user may not manage organization tokens; what the settings page shows beside the disabled section. */
export type OrgTokenManagementRefusal = 'user-disabled' | 'feature-disabled' | 'permission-blocked' | 'permission-missing';

/** What the management rule is judged on: the acting user, their organization and their roles. */
export interface OrgTokenManagementFacts {
  user: UserRecord;
  organization: OrganizationRecord;
  roles: readonly RoleRecord[];
}

export type OrgTokenManagementVerdict = { allowed: true } | { allowed: false; reason: OrgTokenManagementRefusal };

/** The management rule, supplied by the caller: policy/org-token.ts judgeOrgTokenManagement. */
export type OrgTokenManagementRule = (facts: OrgTokenManagementFacts) => OrgTokenManagementVerdict;

/** Public text for each refusal reason (the settings page shows it beside the disabled section). */
export const MANAGEMENT_REFUSAL_TEXT: Record<OrgTokenManagementRefusal, string> = {
  'user-disabled': 'the user is disabled',
  'feature-disabled': 'organization API tokens are not enabled for this organization (feature OrganizationApiToken)',
  'permission-blocked': 'the API permission is denied by one of the user\'s roles',
  'permission-missing': 'the user does not have the API permission',
};

/** The acting user may not manage organization tokens; `reason` is a stable value callers switch on. */
export class OrgTokenManagementRefused extends Error {
  readonly code = 'OrgTokenManagementRefused';
  constructor(
    readonly loginName: string,
    readonly reason: OrgTokenManagementRefusal,
  ) {
    super(`${loginName} may not manage organization tokens: ${MANAGEMENT_REFUSAL_TEXT[reason]}`);
    this.name = 'OrgTokenManagementRefused';
  }
}

export interface OrgTokenView {
  id: string;
  organizationId: string;
  name: string;
  hint: string;
  /** `legacy`: one of the platform's own keys, imported (`org-token import-legacy`); its hint has no prefix. */
  origin: 'minted' | 'legacy';
  enabled: boolean;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
}

/** What the settings page needs to draw the organization-token section for a user. */
export type OrgTokenManagementStatus =
  | { enabled: true; organizationId: string }
  | { enabled: false; organizationId: string; reason: OrgTokenManagementRefusal; message: string };

/** One row of the operator's import file: its line number (for the error), the token's name and the key. */
export interface LegacyOrgKeyRow {
  line: number;
  name: string;
  key: string;
}

/** The database or a write's transaction. */
type Db = Kysely<Database>;

interface ActingUser {
  id: string;
  loginName: string;
  organizationId: string;
}

/** The acting user's authority, as the audit trail names it: the person, and the channel (cli, settings) as source. */
const asUser = (who: Actor, user: ActingUser): Actor => ({ actor: `user:${user.id}`, source: who.source ?? who.actor });

export class OrgTokenAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly rule: OrgTokenManagementRule,
    private readonly writes: Writes = writesOn(db),
  ) {}

  /** Loads the user named by `login` with their organization and roles, and applies the management rule. */
  private async judge(db: Db, login: string): Promise<{ user: ActingUser; refusal?: OrgTokenManagementRefusal }> {
    const row = await userByLogin(db, login);
    const org = await db.selectFrom('organizations').selectAll().where('id', '=', row.organization_id).executeTakeFirstOrThrow();
    const perms = await db
      .selectFrom('user_roles')
      .innerJoin('roles', 'roles.id', 'user_roles.role_id')
      .leftJoin('role_permissions', 'role_permissions.role_id', 'roles.id')
      .select(['roles.id as id', 'roles.organization_id as organization_id', 'roles.name as name', 'role_permissions.permission as permission', 'role_permissions.effect as effect'])
      .where('user_roles.user_id', '=', row.id)
      .execute();
    const roles = new Map<string, RoleRecord>();
    for (const p of perms) {
      const role = roles.get(p.id) ?? { id: p.id, organizationId: p.organization_id, name: p.name, permissions: {} };
      if (p.permission && p.effect) role.permissions[p.permission] = p.effect;
      roles.set(p.id, role);
    }
    const verdict = this.rule({
      user: { id: row.id, organizationId: row.organization_id, loginName: row.login_name, enabled: row.enabled === 1, roleIds: [...roles.keys()] },
      organization: { id: org.id, name: org.name, featureFlags: JSON.parse(org.feature_flags) as string[] },
      roles: [...roles.values()],
    });
    const user = { id: row.id, loginName: row.login_name, organizationId: row.organization_id };
    return verdict.allowed ? { user } : { user, refusal: verdict.reason };
  }

  private async authorize(db: Db, login: string): Promise<ActingUser> {
    const { user, refusal } = await this.judge(db, login);
    if (refusal) throw new OrgTokenManagementRefused(user.loginName, refusal);
    return user;
  }

  /** Tokens of another organization are "not found": no hint that they exist. */
  private async tokenOf(w: WriteContext, user: ActingUser, id: string) {
    const token = await w.trx
      .selectFrom('org_api_tokens')
      .selectAll()
      .where('id', '=', id)
      .where('organization_id', '=', user.organizationId)
      .executeTakeFirst();
    if (!token) throw notFound(`organization token "${id}"`);
    return token;
  }

  /** A write's two traces for one token: its hash's cache key on the change feed, and the audit event by `by`. */
  private async record(w: WriteContext, by: Actor, action: string, token: { id: string; token_hash: string; organization_id: string }, detail?: unknown) {
    await w.changed(cacheKeys.orgToken(token.token_hash));
    await w.audit({ action, targetKind: 'org_api_token', targetId: token.id, organizationId: token.organization_id, detail }, by);
  }

  /** Inserts a new token of organization `organizationId` (names are unique per organization), recorded as `action` by `by`. */
  private async insertToken(w: WriteContext, by: Actor, organizationId: string, t: NewToken<OrgTokenOrigin> & { createdBy: string | null }, action: string, detail: unknown): Promise<OrgTokenView> {
    const dup = await w.trx.selectFrom('org_api_tokens').select('id').where('organization_id', '=', organizationId).where('name', '=', t.name).executeTakeFirst();
    if (dup) throw conflict(`organization token named "${t.name}"`);
    const row = { ...newTokenRow(w, t), organization_id: organizationId, created_by: t.createdBy };
    await w.trx.insertInto('org_api_tokens').values(row).execute();
    // A negative-cache entry for this hash may exist (someone tried it before it existed).
    await this.record(w, by, action, row, detail);
    return toView(row);
  }

  /** Whether `login` may manage organization tokens, and why not: for the settings page. */
  async managementStatus(login: string): Promise<OrgTokenManagementStatus> {
    const { user, refusal } = await this.judge(this.db, login);
    return refusal
      ? { enabled: false, organizationId: user.organizationId, reason: refusal, message: MANAGEMENT_REFUSAL_TEXT[refusal] }
      : { enabled: true, organizationId: user.organizationId };
  }

  /** Creates a token of the acting user's organization and returns its secret: shown once, never stored. */
  async create(who: Actor, login: string, name: string, opts: { enabled?: boolean } = {}): Promise<{ token: OrgTokenView; secret: string }> {
    const clean = checkName(name, 'token name');
    const secret = mintToken('organization');
    const enabled = !!opts.enabled;
    const token = await this.writes.run(who, async (w) => {
      const user = await this.authorize(w.trx, login);
      const t = { name: clean, hash: hashToken(secret), hint: tokenHint(secret), origin: 'minted' as const, enabled, createdBy: user.id };
      return this.insertToken(w, asUser(who, user), user.organizationId, t, 'org_token.create', { name: clean, enabled });
    });
    return { token, secret };
  }

  async list(login: string): Promise<OrgTokenView[]> {
    const user = await this.authorize(this.db, login);
    const rows = await this.db.selectFrom('org_api_tokens').selectAll().where('organization_id', '=', user.organizationId).orderBy('created_at').orderBy('name').execute();
    return rows.map(toView);
  }

  async setEnabled(who: Actor, login: string, id: string, enabled: boolean): Promise<OrgTokenView> {
    return this.writes.run(who, async (w) => {
      const user = await this.authorize(w.trx, login);
      const token = await this.tokenOf(w, user, id);
      await w.trx.updateTable('org_api_tokens').set({ enabled: enabled ? 1 : 0 }).where('id', '=', id).execute();
      await this.record(w, asUser(who, user), enabled ? 'org_token.enable' : 'org_token.disable', token);
      return toView({ ...token, enabled: enabled ? 1 : 0 });
    });
  }

  async delete(who: Actor, login: string, id: string): Promise<void> {
    await this.writes.run(who, async (w) => {
      const user = await this.authorize(w.trx, login);
      const token = await this.tokenOf(w, user, id);
      await w.trx.deleteFrom('org_api_tokens').where('id', '=', id).execute();
      await this.record(w, asUser(who, user), 'org_token.delete', token, { name: token.name });
      // The last imported key of its form may be gone: the gateways' shape check must learn it.
      if (token.origin !== 'minted') await w.changed(cacheKeys.legacyOrgKeyForms());
    });
  }

  /**
   * Imports the platform's own organization keys for organization `orgName`, all or nothing: every
   * row is checked first, and one bad row (named by its line) leaves the store untouched. A key is
   * a GUID (any case; stored as the hash of its lower-case spelling, which is also what the gateway
   * hashes when one is presented) or 64–66 lower-case letters and digits. Names are unique per
   * organization, keys across the store. This is the operator's act (no acting user of the
   * organization: the keys already exist on the platform), audited as `who`.
   */
  async importLegacy(who: Actor, orgName: string, rows: readonly LegacyOrgKeyRow[], opts: { enabled?: boolean } = {}): Promise<OrgTokenView[]> {
    const enabled = opts.enabled ?? true;
    const checked = checkLegacyRows(rows);
    return this.writes.run(who, async (w) => {
      const org = await orgByName(w.trx, orgName);
      const out: OrgTokenView[] = [];
      for (const r of checked) {
        const taken = await w.trx.selectFrom('org_api_tokens').select('id').where('token_hash', '=', r.hash).executeTakeFirst();
        // Which organization holds it stays unsaid: the file may be for the wrong one.
        if (taken) throw invalid(`line ${r.line}: this key is already stored`);
        const t = { name: r.name, hash: r.hash, hint: r.hint, origin: r.origin, enabled, createdBy: null };
        try {
          out.push(await this.insertToken(w, who, org.id, t, 'org_token.import', { name: r.name, enabled, form: r.origin }));
        } catch (e) {
          throw atLine(r.line, e);
        }
      }
      // The gateways' shape check learns that keys of these forms now exist.
      await w.changed(cacheKeys.legacyOrgKeyForms());
      return out;
    });
  }
}

/** A store outcome about one row of the file: invalid input, named by its line. Anything else as it was. */
function atLine(line: number, e: unknown): unknown {
  return e instanceof StoreError ? invalid(`line ${line}: ${e.message}`) : e;
}

interface CheckedLegacyRow {
  line: number;
  name: string;
  hash: string;
  hint: string;
  origin: OrgTokenOrigin;
}

/** The checks that need no store: name, key form, and no key or name twice in the file. Never echoes a key. */
function checkLegacyRows(rows: readonly LegacyOrgKeyRow[]): CheckedLegacyRow[] {
  if (rows.length === 0) throw invalid('the file has no organization key rows');
  const byHash = new Map<string, number>();
  const byName = new Map<string, number>();
  return rows.map((r) => {
    const name = r.name.trim();
    if (name.length < 1 || name.length > NAME_MAX) throw invalid(`line ${r.line}: token name must be 1 to ${NAME_MAX} characters`);
    const form = legacyOrgKeyForm(r.key);
    if (!form) throw invalid(`line ${r.line}: key must be a GUID (8-4-4-4-12 hexadecimal digits) or 64 to 66 lower-case letters and digits`);
    const key = canonicalOrgKey(r.key, form);
    const hash = hashToken(key);
    const sameKey = byHash.get(hash);
    if (sameKey !== undefined) throw invalid(`line ${r.line}: the same key as line ${sameKey}`);
    const sameName = byName.get(name);
    if (sameName !== undefined) throw invalid(`line ${r.line}: the same name as line ${sameName}`);
    byHash.set(hash, r.line);
    byName.set(name, r.line);
    return { line: r.line, name, hash, hint: tokenHint(key), origin: `legacy-${form}` as const };
  });
}

function toView(r: Omit<Database['org_api_tokens'], 'token_hash'> & { token_hash?: string }): OrgTokenView {
  return {
    id: r.id,
    organizationId: r.organization_id,
    name: r.name,
    hint: r.hint,
    origin: r.origin === 'minted' ? 'minted' : 'legacy',
    enabled: r.enabled === 1,
    createdBy: r.created_by,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    lastUsedIp: r.last_used_ip,
  };
}
