// The store's shared write context (src/store/write-context.ts), on SQLite and PostgreSQL: a write
// leaves its change-feed keys and audit events together, timed by its clock, announced after COMMIT;
// a write that fails leaves neither, announces nothing, and the failure reaches the caller.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writesOn, type Writes } from '../../src/store/write-context.js';
import { seedUser, TEST_ACTOR } from '../helpers/fixtures.js';
import { useGateway } from '../helpers/use-gateway.js';

const AT = Date.parse('2030-01-02T03:04:05.000Z');
const AUDIT = { action: 'test.write', targetKind: 'test', targetId: 't1', organizationId: null, detail: { n: 1 } };

const { ts } = useGateway({ gateway: false });
let writes: Writes;
let heard: string[][];
let cursor: number;
let auditCount: number;

const auditEvents = () => ts.store.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
const newChanges = async () => (await ts.store.gateway.changesSince(cursor)).map((c) => c.cacheKey);
const newAuditEvents = async () => (await auditEvents()).slice(auditCount);

beforeAll(() => {
  writes = writesOn(ts.store.db, () => AT);
  ts.store.onCommittedChanges((keys) => heard.push(keys));
});
beforeEach(async () => {
  heard = [];
  cursor = await ts.store.gateway.latestChangeId();
  auditCount = (await auditEvents()).length;
});

describe('the write context', () => {
  it('commits the keys and the audit event together, at the clock\'s time, and announces the keys once after COMMIT', async () => {
    const result = await writes.run(TEST_ACTOR, async (w) => {
      await w.changed('user:a', 'token:b');
      await w.changed();
      await w.audit(AUDIT);
      await w.audit({ ...AUDIT, targetId: 't2' }, { actor: 'user:u1', source: 'settings' });
      expect(heard).toEqual([]);
      return w.now(60_000);
    });
    expect(result).toBe(new Date(AT + 60_000).toISOString());
    expect(heard).toEqual([['user:a', 'token:b']]);
    expect(await newChanges()).toEqual(['user:a', 'token:b']);
    const rows = await ts.store.db.selectFrom('changes').select('at').where('id', '>', cursor).execute();
    expect(rows.map((r) => r.at)).toEqual([new Date(AT).toISOString(), new Date(AT).toISOString()]);
    expect((await newAuditEvents()).map(({ id: _id, ...e }) => e)).toEqual([
      { at: new Date(AT).toISOString(), actor: 'test', source: 'test', action: 'test.write', target_kind: 'test', target_id: 't1', organization_id: null, detail: '{"n":1}' },
      { at: new Date(AT).toISOString(), actor: 'user:u1', source: 'settings', action: 'test.write', target_kind: 'test', target_id: 't2', organization_id: null, detail: '{"n":1}' },
    ]);
  });

  it('a write that fails after appending keys and an audit event leaves neither, announces nothing, and throws to the caller', async () => {
    await expect(
      writes.run(TEST_ACTOR, async (w) => {
        await w.changed('user:x');
        await w.audit(AUDIT);
        throw new Error('the write failed');
      }),
    ).rejects.toThrow('the write failed');
    expect(heard).toEqual([]);
    expect(await newChanges()).toEqual([]);
    expect(await newAuditEvents()).toEqual([]);
  });

  it('a write that invalidates keys without an audit event is refused and rolled back', async () => {
    await expect(writes.run(TEST_ACTOR, (w) => w.changed('user:y'))).rejects.toThrow(/audit event/);
    expect(heard).toEqual([]);
    expect(await newChanges()).toEqual([]);
  });

  it('a write audited without keys to invalidate writes no change-feed row', async () => {
    await writes.run(TEST_ACTOR, (w) => w.audit(AUDIT));
    expect(heard).toEqual([]);
    expect(await newChanges()).toEqual([]);
    expect(await newAuditEvents()).toHaveLength(1);
  });

  it('through a write module: an import whose second row fails keeps nothing of the first (token, key, audit event)', async () => {
    const alice = await seedUser(ts.store);
    cursor = await ts.store.gateway.latestChangeId();
    auditCount = (await auditEvents()).length;
    heard = [];
    const rows = [
      { line: 1, login: alice.login, name: 'first', token: 'a'.repeat(64) },
      { line: 2, login: 'nobody@example.test', name: 'second', token: 'b'.repeat(64) },
    ];
    await expect(ts.store.admin.importLegacyTokens(TEST_ACTOR, rows)).rejects.toThrow('line 2: user "nobody@example.test" not found');
    expect(heard).toEqual([]);
    expect(await newChanges()).toEqual([]);
    expect(await newAuditEvents()).toEqual([]);
    expect((await ts.store.admin.listApiTokens(alice.login)).map((t) => t.name)).toEqual(['Integration A']);
  });
});
