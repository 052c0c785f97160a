// The change-feed keys of a write are announced after COMMIT, never on ROLLBACK (real SQLite in memory).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './index.js';

let store: Store;
let heard: string[][];
const who = { actor: 'test' };

beforeEach(async () => {
  store = openStore('sqlite::memory:');
  await store.migrate();
  heard = [];
  store.onCommittedChanges((keys) => heard.push(keys));
  await store.admin.createOrganization(who, 'Acme');
  await store.admin.createRole(who, 'Acme', 'Integrators', ['API'], []);
  await store.admin.createUser(who, 'Acme', 'a@acme.test', ['Integrators']);
  heard = [];
});
afterEach(() => store.close());

describe('commit announcer', () => {
  it('announces the keys of a committed write once, after it committed', async () => {
    const { token } = await store.admin.createApiToken(who, 'a@acme.test', 'one', { enabled: true });
    expect(heard).toHaveLength(1);
    expect(heard[0]![0]).toMatch(/^token:[0-9a-f]{64}$/);
    await store.admin.setUserEnabled(who, 'a@acme.test', false);
    await store.admin.setApiTokenEnabled(who, token.id, false);
    expect(heard.slice(1).map((k) => k[0]!.split(':')[0])).toEqual(['user', 'token']);
  });

  it('announces nothing when the transaction rolls back', async () => {
    await expect(store.admin.setOrganizationFeature(who, 'Nope', 'OrganizationApiToken', true)).rejects.toThrow(/not found/);
    await expect(
      store.db.transaction().execute(async (trx) => {
        await trx.insertInto('changes').values({ at: new Date().toISOString(), cache_key: 'user:x' }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(heard).toEqual([]);
  });

  it('announces a change written outside any transaction at once', async () => {
    await store.db.insertInto('changes').values([{ at: 'x', cache_key: 'org:1' }, { at: 'x', cache_key: 'role:2' }]).execute();
    expect(heard).toEqual([['org:1', 'role:2']]);
  });

  it('a failing listener does not fail the write', async () => {
    store.onCommittedChanges(() => {
      throw new Error('redis down');
    });
    await expect(store.admin.setOrganizationFeature(who, 'Acme', 'OrganizationApiToken', true)).resolves.toMatchObject({ name: 'Acme' });
  });
});
