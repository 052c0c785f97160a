// store/: the one context every audited write runs in (DESIGN.md §4, §5). A write is one
// transaction, and inside it the write leaves two traces: the cache keys it invalidates (the
// `changes` feed every instance follows, and that store/commit-announcer.ts publishes after COMMIT)
// and its audit events. Both, and the rows, read the time from the same clock. The write modules
// (admin-store.ts, token-lifecycle.ts, org-token-admin.ts, oauth-store.ts) write only through
// `Writes.run`, so none can invalidate differently, skip the audit trail, or keep either trace of a
// write that rolled back.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './tables.js';

/** Who performs a write, for the audit trail: `cli`, `user:<id>`, `system`, and the channel it came through. */
export interface Actor {
  actor: string;
  source?: string | null;
}

/** One audit event: what was done to which record. */
export interface AuditEntry {
  action: string;
  targetKind: string;
  targetId: string;
  organizationId?: string | null;
  detail?: unknown;
}

/** Milliseconds since the epoch, as `Date.now`. */
export type Clock = () => number;

/** What a write is given: its transaction, the clock, and the two traces it leaves. */
export interface WriteContext {
  /** The transaction: every query of the write goes through it. */
  readonly trx: Transaction<Database>;
  /** The clock as stored (ISO-8601): now, or `afterMs` from now. */
  now(afterMs?: number): string;
  /** Appends cache keys this write invalidates to the change feed (no keys: nothing is written). */
  changed(...keys: string[]): Promise<void>;
  /** Appends an audit event, done by the write's actor unless `by` names another. */
  audit(entry: AuditEntry, by?: Actor): Promise<void>;
}

export interface Writes {
  /**
   * Runs `fn` as one write on behalf of `who`: committed with every change-feed key and audit event
   * it appended, or rolled back (it threw) with none of them. A write that invalidates cache keys
   * leaves an audit event: one that does not is a bug, refused here by rolling it back.
   */
  run<T>(who: Actor, fn: (w: WriteContext) => Promise<T>): Promise<T>;
}

/**
 * The write side over `db`; `clock` is swapped in tests. Over a transaction already open (a first
 * run making its organization, role and user at once, under one lock) each write joins it: one
 * commit for all of them, or none.
 */
export function writesOn(db: Kysely<Database>, clock: Clock = Date.now): Writes {
  const now = (afterMs = 0) => new Date(clock() + afterMs).toISOString();
  const inTransaction = <T>(run: (trx: Transaction<Database>) => Promise<T>): Promise<T> =>
    db.isTransaction ? run(db as Transaction<Database>) : db.transaction().execute(run);
  return {
    run: (who, fn) =>
      inTransaction(async (trx) => {
        let changed = false;
        let audited = false;
        const result = await fn({
          trx,
          now,
          async changed(...keys) {
            if (keys.length === 0) return;
            changed = true;
            const at = now();
            await trx.insertInto('changes').values(keys.map((cache_key) => ({ at, cache_key }))).execute();
          },
          async audit(e, by = who) {
            audited = true;
            await trx
              .insertInto('audit_events')
              .values({
                at: now(),
                actor: by.actor,
                action: e.action,
                target_kind: e.targetKind,
                target_id: e.targetId,
                organization_id: e.organizationId ?? null,
                source: by.source ?? null,
                detail: e.detail === undefined ? null : JSON.stringify(e.detail),
              })
              .execute();
          },
        });
        if (changed && !audited) throw new Error('a write that invalidates cache keys must leave an audit event');
        return result;
      }),
  };
}
