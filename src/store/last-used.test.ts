// Batched last-used bookkeeping against real SQLite in memory: one write per token per interval.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenUse } from './gateway-store.js';
import { openStore, type Store } from './index.js';
import { recordLastUsed } from './last-used.js';

let store: Store;
let tokenIds: string[];
const who = { actor: 'test' };

beforeEach(async () => {
  store = openStore('sqlite::memory:');
  await store.migrate();
  await store.admin.createOrganization(who, 'Acme');
  await store.admin.createUser(who, 'Acme', 'a@acme.test', []);
  tokenIds = [];
  for (const name of ['one', 'two']) tokenIds.push((await store.admin.createApiToken(who, 'a@acme.test', name)).token.id);
});
afterEach(() => store.close());

describe('recordLastUsed', () => {
  it('writes each token once per flush however many requests it served', async () => {
    const batches: TokenUse[][] = [];
    const rec = recordLastUsed(
      { recordTokenUse: (uses) => (batches.push([...uses]), store.gateway.recordTokenUse(uses)) },
      { flushIntervalMs: 60_000 },
    );
    for (let i = 0; i < 1000; i++) rec.record(tokenIds[i % 2]!, `10.0.0.${i % 7}`);
    await rec.flush();
    expect(batches).toHaveLength(1);
    // One entry per token and client address: 2 tokens × 7 addresses, not 1000
    expect(batches[0]).toHaveLength(14);
    expect([...new Set(batches[0]!.map((u) => u.id))].sort()).toEqual([...tokenIds].sort());
    // The distinct addresses are kept, the newest five per token
    const ips = await store.lifecycle.usageIps(tokenIds);
    expect(ips.get(tokenIds[0]!)).toHaveLength(5);
    const rows = await store.admin.listApiTokens('a@acme.test');
    expect(rows.every((r) => r.lastUsedAt && r.lastUsedIp?.startsWith('10.0.0.'))).toBe(true);
    await rec.flush();
    expect(batches).toHaveLength(1); // nothing new, no write
    await rec.stop();
  });

  it('keeps a failed batch for the next interval, and flushes on stop', async () => {
    let fail = true;
    const rec = recordLastUsed(
      { recordTokenUse: (uses) => (fail ? Promise.reject(new Error('store down')) : store.gateway.recordTokenUse(uses)) },
      { flushIntervalMs: 60_000 },
    );
    rec.record(tokenIds[0]!, '192.0.2.1');
    await rec.flush();
    fail = false;
    await rec.stop();
    const [row] = (await store.admin.listApiTokens('a@acme.test')).filter((r) => r.id === tokenIds[0]);
    expect(row!.lastUsedIp).toBe('192.0.2.1');
  });

  it('never lets an older use overwrite a newer one (several instances flush)', async () => {
    await store.gateway.recordTokenUse([{ id: tokenIds[0]!, at: '2030-01-01T00:00:00.000Z', ip: 'new' }]);
    await store.gateway.recordTokenUse([{ id: tokenIds[0]!, at: '2029-01-01T00:00:00.000Z', ip: 'old' }]);
    const [row] = (await store.admin.listApiTokens('a@acme.test')).filter((r) => r.id === tokenIds[0]);
    expect(row).toMatchObject({ lastUsedAt: '2030-01-01T00:00:00.000Z', lastUsedIp: 'new' });
  });
});
