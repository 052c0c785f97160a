// store/: announces the cache keys a write invalidated, once its transaction has committed.
// Every writer appends those keys to the `changes` table (write-context.ts) in its transaction;
// this wraps the Kysely driver so the keys are picked up as they are inserted and handed to the
// listeners only after COMMIT (dropped on ROLLBACK). It sits below every writer — the CLI, the
// settings API, a future module writing with Kysely directly — so none of them can forget it.
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';

export type ChangeListener = (keys: string[]) => void;

/** `insert into "changes" ("at", "cache_key") values (?, ?), ...` in either dialect. */
const CHANGES_INSERT = /^insert into "changes" \(([^)]*)\) values/i;

/** The cache keys a compiled insert into `changes` carries, or none for any other query. */
export function changedKeysOf(query: CompiledQuery): string[] {
  const m = CHANGES_INSERT.exec(query.sql);
  if (!m) return [];
  const columns = m[1]!.split(',').map((c) => c.trim().replace(/"/g, ''));
  const at = columns.indexOf('cache_key');
  if (at < 0) return [];
  const keys: string[] = [];
  for (let i = at; i < query.parameters.length; i += columns.length) keys.push(String(query.parameters[i]));
  return keys;
}

class AnnouncingConnection implements DatabaseConnection {
  inTransaction = false;
  pending: string[] = [];

  constructor(
    readonly inner: DatabaseConnection,
    private readonly announce: ChangeListener,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.inner.executeQuery<R>(query);
    const keys = changedKeysOf(query);
    if (keys.length) {
      if (this.inTransaction) this.pending.push(...keys);
      else this.announce(keys);
    }
    return result;
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

class AnnouncingDriver implements Driver {
  private readonly wrappers = new WeakMap<DatabaseConnection, AnnouncingConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly announce: ChangeListener,
  ) {
    // Savepoints are optional in Kysely's Driver interface: expose them only if the inner driver has them.
    if (inner.savepoint) this.savepoint = (c, n, q) => inner.savepoint!(unwrap(c), n, q);
    if (inner.rollbackToSavepoint) this.rollbackToSavepoint = (c, n, q) => inner.rollbackToSavepoint!(unwrap(c), n, q);
    if (inner.releaseSavepoint) this.releaseSavepoint = (c, n, q) => inner.releaseSavepoint!(unwrap(c), n, q);
  }

  savepoint?: Driver['savepoint'];
  rollbackToSavepoint?: Driver['rollbackToSavepoint'];
  releaseSavepoint?: Driver['releaseSavepoint'];

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const conn = await this.inner.acquireConnection();
    let w = this.wrappers.get(conn);
    if (!w) {
      w = new AnnouncingConnection(conn, this.announce);
      this.wrappers.set(conn, w);
    }
    return w;
  }

  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction(unwrap(conn), settings);
    const w = conn as AnnouncingConnection;
    w.inTransaction = true;
    w.pending = [];
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    const w = conn as AnnouncingConnection;
    try {
      await this.inner.commitTransaction(unwrap(conn));
    } finally {
      w.inTransaction = false;
    }
    const keys = w.pending;
    w.pending = [];
    if (keys.length) this.announce(keys);
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    const w = conn as AnnouncingConnection;
    w.inTransaction = false;
    w.pending = [];
    await this.inner.rollbackTransaction(unwrap(conn));
  }

  releaseConnection(conn: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(unwrap(conn));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

function unwrap(conn: DatabaseConnection): DatabaseConnection {
  return conn instanceof AnnouncingConnection ? conn.inner : conn;
}

/** The same dialect, announcing committed change-feed keys to `announce`. */
export function announcingDialect(dialect: Dialect, announce: ChangeListener): Dialect {
  return {
    createDriver: () => new AnnouncingDriver(dialect.createDriver(), announce),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}
