// store/: what every audited write leaves behind inside its own transaction — the cache keys it
// invalidates (the change feed every instance follows, and that store/commit-announcer.ts
// publishes after COMMIT) and one audit event. Every write module calls these two, so no writer
// can invalidate differently or forget the audit trail.
import type { Kysely } from 'kysely';
import type { Database } from './tables.js';

/** Who performs a write, for the audit trail. */
export interface Actor {
  actor: string;
  source?: string | null;
}

export interface AuditEntry {
  action: string;
  targetKind: string;
  targetId: string;
  organizationId?: string | null;
  detail?: unknown;
}

export async function appendChanges(trx: Kysely<Database>, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const at = new Date().toISOString();
  await trx.insertInto('changes').values(keys.map((cache_key) => ({ at, cache_key }))).execute();
}

export async function appendAudit(trx: Kysely<Database>, who: Actor, e: AuditEntry): Promise<void> {
  await trx
    .insertInto('audit_events')
    .values({
      at: new Date().toISOString(),
      actor: who.actor,
      action: e.action,
      target_kind: e.targetKind,
      target_id: e.targetId,
      organization_id: e.organizationId ?? null,
      source: who.source ?? null,
      detail: e.detail === undefined ? null : JSON.stringify(e.detail),
    })
    .execute();
}
