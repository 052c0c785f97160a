// TieredResolver: eviction during a store read, and the store-down stale fallback.
import { describe, expect, it } from 'vitest';
import { L1Cache } from './l1.js';
import { StoreReadFailed, TieredResolver } from './resolver.js';

const l1 = (ttlMs: number, staleMaxMs: number) => new L1Cache({ maxEntries: 100, ttlMs, negativeTtlMs: 100, staleMaxMs });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TieredResolver', () => {
  it('does not cache an answer whose key was evicted while it was being read', async () => {
    const r = new TieredResolver(l1(10_000, 0));
    let release!: (v: string) => void;
    const pending = r.resolve('user:1', () => new Promise<string>((res) => (release = res)));
    r.evict(['user:1']); // the write committed while the old row was in flight
    release('old');
    expect((await pending).value).toBe('old'); // that caller asked before the write
    const next = await r.resolve('user:1', async () => 'new');
    expect(next).toMatchObject({ value: 'new', tier: 'store' });
  });

  it('store down: serves a positive record past its TTL within the stale bound, then fails', async () => {
    const r = new TieredResolver(l1(20, 150), undefined, { staleMaxMs: 150 });
    await r.resolve('token:a', async () => 'rec');
    await sleep(40);
    const down = async (): Promise<string> => {
      throw new Error('ECONNREFUSED');
    };
    expect(await r.resolve('token:a', down)).toMatchObject({ value: 'rec', stale: true });
    await expect(r.resolve('token:b', down)).rejects.toBeInstanceOf(StoreReadFailed);
    await sleep(150);
    await expect(r.resolve('token:a', down)).rejects.toBeInstanceOf(StoreReadFailed);
  });

  it('never serves an evicted record as stale', async () => {
    const r = new TieredResolver(l1(20, 10_000), undefined, { staleMaxMs: 10_000 });
    await r.resolve('token:a', async () => 'rec');
    r.evict(['token:a']);
    await expect(r.resolve('token:a', () => Promise.reject(new Error('down')))).rejects.toBeInstanceOf(StoreReadFailed);
  });
});
