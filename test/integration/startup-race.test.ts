// Instances started together on one empty store (issue 19, item 14): a fleet's gateways on one
// PostgreSQL schema, or processes on one SQLite file, in development. Every one becomes ready, the
// migrations are applied once, exactly one demo organization and user exist and one set-password
// link is printed, and no instance fails because another was first. Real processes (dist/main.js),
// as in production; on PostgreSQL the same races in-process too, many at once and repeated.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { welcomeOnEmptyStore, DEMO } from '../../src/settings/first-run.js';
import { sessionStoreFor } from '../../src/settings/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ROOT } from '../helpers/processes.js';
import { startTestGateway } from '../helpers/test-gateway.js';
import { POSTGRES_URL, TEST_DB } from '../helpers/test-store.js';

const INSTANCES = 4;

/** A store nothing has touched: a fresh PostgreSQL schema, or a path for a SQLite file not yet made. */
async function emptyStore(): Promise<{ url: string; drop(): Promise<void> }> {
  if (TEST_DB === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-race-'));
    return { url: `sqlite:${join(dir, 'gatehouse.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = async (q: string) => {
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await admin(`create schema ${schema}`);
  return { url: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, drop: () => admin(`drop schema ${schema} cascade`) };
}

// Whatever a test started is stopped, and its store dropped, even when it failed half-way.
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function givenEmptyStore(): Promise<string> {
  const s = await emptyStore();
  cleanups.push(() => s.drop());
  return s.url;
}

function opened(url: string): Store {
  const s = openStore(url);
  cleanups.push(() => s.close());
  return s;
}

/** What the demo's first run left: organizations, users and demo users. */
async function census(url: string) {
  const s = opened(url);
  const count = async (table: 'organizations' | 'users' | 'roles', where?: [string, string]) => {
    let q = s.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
    if (where) q = q.where(where[0] as never, '=', where[1] as never);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  return {
    demoOrganizations: await count('organizations', ['name', DEMO.org]),
    organizations: await count('organizations'),
    users: await count('users'),
    roles: await count('roles'),
    links: Number((await s.db.withTables<{ settings_password_links: { token_hash: string } }>().selectFrom('settings_password_links').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n),
  };
}

/** A gateway process (dist/main.js), as a fleet instance is one. */
interface Instance {
  proc: ChildProcess;
  /** Everything it has written to stdout and stderr so far. */
  output(): string;
  /** Where it listens, from its "gatehouse listening" line (logged once its start-up, first run included, is over). */
  url(): string | undefined;
}

/**
 * Starts `n` gateway processes at the same moment on `url`, in development (demo user on), each on a
 * port of its own (PORT=0) — the metrics listener too, its default being one fixed port and one host
 * running them all here. Resolves once every one has ended its start-up, listening or exited; the
 * deadline is generous, for a busy test machine starting four Node processes at once.
 */
async function startTogether(url: string, n: number): Promise<Instance[]> {
  const env = { PATH: process.env.PATH, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', METRICS_LISTEN: '127.0.0.1:0', LOG_LEVEL: 'info', DATABASE_URL: url };
  const instances = Array.from({ length: n }, (): Instance => {
    let out = '';
    const proc = spawn(process.execPath, [`${ROOT}dist/main.js`], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    cleanups.push(() => stopped(proc));
    return { proc, output: () => out, url: () => /"url":"(http:[^"]+)"[^\n]*"message":"gatehouse listening"/.exec(out)?.[1] };
  });
  const deadline = Date.now() + 90_000;
  while (instances.some((i) => i.proc.exitCode === null && !i.url())) {
    if (Date.now() > deadline) throw new Error(`a start-up did not end:\n${instances.map((i) => i.output()).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return instances;
}

function stopped(proc: ChildProcess): Promise<unknown> {
  if (proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', resolve);
    proc.kill('SIGTERM');
  });
}

const occurrences = (text: string, what: string) => text.split(what).length - 1;

describe(`${INSTANCES} instances started at once on an empty ${TEST_DB} store`, () => {
  it('all become ready; migrations applied once; one demo organization, user and printed link; no start-up failure', async () => {
    const url = await givenEmptyStore();
    const instances = await startTogether(url, INSTANCES);
    // Still up a moment later (a gateway of another version logs its listening line before its first run)
    await new Promise((r) => setTimeout(r, 1000));
    for (const i of instances) {
      expect(i.proc.exitCode, i.output()).toBeNull();
      expect(i.output()).not.toContain('failed to start');
      expect(i.output()).not.toMatch(/"level":"(error|fatal)"/);
      expect((await fetch(`${i.url()}/readyz`)).status).toBe(200);
    }
    const all = instances.map((i) => i.output()).join('\n');
    expect(occurrences(all, '"message":"migrations applied"')).toBe(1);
    expect(occurrences(all, `empty store, so a demo user ${DEMO.login} was created`)).toBe(1);
    expect(occurrences(all, '#set-password=')).toBe(1);
    expect(await census(url)).toEqual({ demoOrganizations: 1, organizations: 1, users: 1, roles: 1, links: 1 });

    // The link printed works on any instance: one store
    const token = /#set-password=([\w-]{43})/.exec(all)![1]!;
    const set = await fetch(`${instances.at(-1)!.url()}/settings/api/password`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, password: 'a demo password, long enough' }) });
    expect(set.status).toBe(200);
  }, 120_000);

  it.runIf(TEST_DB === 'sqlite')('SQLite: a database another process holds locked past busy_timeout is waited for, not a failure', async () => {
    const url = await givenEmptyStore();
    // Another writer (a CLI import, say) takes the file first and holds it for well over the 5 s busy_timeout
    const other = opened(url); // makes the file (and WAL mode), migrates nothing
    await other.close();
    const holder = new SQLite(url.slice('sqlite:'.length));
    holder.exec('begin immediate');
    const released = new Promise<void>((resolve) =>
      setTimeout(() => {
        holder.exec('rollback');
        holder.close();
        resolve();
      }, 12_000),
    );
    const instances = await startTogether(url, 2);
    await released;
    for (const i of instances) expect(i.proc.exitCode, i.output()).toBeNull();
    expect(await census(url)).toMatchObject({ demoOrganizations: 1, users: 1 });
  }, 120_000);
});

describe.runIf(TEST_DB === 'postgres')('PostgreSQL, in-process: many at once, again and again', () => {
  it("Kysely's migration lock serializes 8 migrations of one empty schema: each migration applied once, none failing", async () => {
    for (let round = 0; round < 3; round++) {
      const url = await givenEmptyStore();
      const stores = Array.from({ length: 8 }, () => opened(url));
      const applied = await Promise.all(stores.map((s) => s.migrate()));
      expect(applied.filter((a) => a.length > 0)).toHaveLength(1);
      expect(await stores[0]!.pendingMigrations()).toEqual([]);
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(stores[0]!.db);
      expect(applied.flat().sort()).toEqual(rows.map((r) => r.name));
    }
  });

  it('8 first runs at once on one empty, migrated schema: one demo user and one link, none failing', async () => {
    const url = await givenEmptyStore();
    const first = opened(url);
    await first.migrate();
    // The config of a development gateway (any gateway's, with env development)
    const gw = await startTestGateway({ store: first, storeUrl: url });
    cleanups.push(() => gw.close());
    const config = { ...gw.config, env: 'development' as const };
    const logger = createLogger({ level: 'silent' });
    for (let round = 0; round < 3; round++) {
      if (round > 0) {
        // Empty again (users and what hangs on them), the demo organization left behind as a crashed older version could have
        await first.db.deleteFrom('user_roles').execute();
        await first.db.withTables<{ settings_password_links: { user_id: string } }>().deleteFrom('settings_password_links').execute();
        await first.db.deleteFrom('api_tokens').execute();
        await first.db.deleteFrom('users').execute();
      }
      const printed: string[] = [];
      const links = await Promise.all(
        Array.from({ length: 8 }, () => {
          const store = opened(url);
          return welcomeOnEmptyStore({ config, store, sessions: sessionStoreFor(store, config.settings), logger, baseUrl: gw.url, print: (t) => printed.push(t) });
        }),
      );
      expect(links.filter(Boolean)).toHaveLength(1);
      expect(printed).toHaveLength(1);
      expect(await census(url)).toMatchObject({ demoOrganizations: 1, users: 1, roles: 1 });
    }
  });
});
