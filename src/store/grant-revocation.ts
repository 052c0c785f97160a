// store/: revoking OAuth grants inside a write — what revoking a grant, disabling or deleting its
// client (oauth-store.ts) and disabling its user (admin-store.ts) have in common. It lives
// here, below both, so the admin side needs nothing from oauth/.
import { cacheKeys } from './change-keys.js';
import type { WriteContext } from './write-context.js';

/**
 * Revokes the live grants matching one column (a grant id, a client or a user), spends their
 * refresh tokens and codes, and evicts `grant:<id>` through the change feed, so their access tokens
 * stop on every instance on the next request. Returns the revoked grants' ids.
 */
export async function revokeGrantsWhere(w: WriteContext, column: 'id' | 'client_id' | 'user_id', value: string): Promise<string[]> {
  const live = await w.trx.selectFrom('oauth_grants').select('id').where(column, '=', value).where('revoked_at', 'is', null).execute();
  if (live.length === 0) return [];
  const ids = live.map((g) => g.id);
  const at = w.now();
  await w.trx.updateTable('oauth_grants').set({ revoked_at: at }).where('id', 'in', ids).execute();
  await w.trx.updateTable('refresh_tokens').set({ spent_at: at }).where('grant_id', 'in', ids).where('spent_at', 'is', null).execute();
  await w.trx.updateTable('oauth_codes').set({ used_at: at }).where('grant_id', 'in', ids).where('used_at', 'is', null).execute();
  await w.changed(...ids.map(cacheKeys.grant));
  return ids;
}
