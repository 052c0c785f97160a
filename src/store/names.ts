// store/: what a person types to the write side, shared by the write modules — the names they give
// things (checked once, here) and the names they find records by: an organization's name, a login
// name, a token id. A look-up throws `notFound` naming what was typed, except a token id (an
// operator who pastes a secret there must not see it echoed).
import type { Kysely } from 'kysely';
import { invalid, notFound } from './errors.js';
import type { Database } from './tables.js';

/** The database or a write's transaction. */
type Db = Kysely<Database>;

export const NAME_MAX = 100;

/** A name given to an organization, role, token or OAuth client: trimmed, 1 to NAME_MAX characters. */
export function checkName(name: string, what: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > NAME_MAX) throw invalid(`${what} must be 1 to ${NAME_MAX} characters`);
  return trimmed;
}

export async function orgByName(db: Db, name: string) {
  const org = await db.selectFrom('organizations').selectAll().where('name', '=', name).executeTakeFirst();
  if (!org) throw notFound(`organization "${name}"`);
  return org;
}

/** Login names are unique case-insensitively: compared by their lower-cased, trimmed key. */
export async function userByLogin(db: Db, login: string) {
  const user = await db.selectFrom('users').selectAll().where('login_key', '=', login.trim().toLowerCase()).executeTakeFirst();
  if (!user) throw notFound(`user "${login}"`);
  return user;
}

export async function apiTokenById(db: Db, id: string) {
  const token = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  if (!token) throw notFound('token with this id');
  return token;
}
