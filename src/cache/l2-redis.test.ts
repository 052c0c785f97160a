// L2 against the real Redis on 6379 (a key prefix of its own), and against a port nobody listens on.
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { SHARED_REDIS_URL, freePort, uniquePrefix } from '../../test/helpers/redis-server.js';
import { createRedisClient, describeRedis, RedisTier, type RedisClient, L2_FORMAT } from './l2-redis.js';
import { parseEvictionMessage } from './eviction-channel.js';

const logs: string[] = [];
const logger = createLogger({ level: 'debug', stream: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
const prefix = uniquePrefix('l2');
const cfg = {
  url: SHARED_REDIS_URL,
  mode: 'standalone' as const,
  sentinels: [],
  sentinelName: 'mymaster',
  clusterNodes: [],
  keyPrefix: prefix,
  commandTimeoutMs: 200,
  probeIntervalMs: 100,
  ttlMs: 60_000,
  negativeTtlMs: 2_000,
  tombstoneMs: 1_000,
};

let client: RedisClient;
let tier: RedisTier;
let raw: Redis;

async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  client = createRedisClient(cfg);
  tier = new RedisTier(client, { ...cfg, logger });
  raw = new Redis(SHARED_REDIS_URL);
  await until(() => tier.state === 'up');
});
afterAll(async () => {
  const keys = await raw.keys(`${prefix}*`);
  if (keys.length) await raw.del(...keys);
  tier.close();
  client.disconnect();
  raw.disconnect();
});

describe('RedisTier', () => {
  it('reads the look-ups of one event-loop turn with one MGET, each answered with its own record', async () => {
    await tier.set('token:b1', { value: { id: 'b1' }, at: 1 });
    await tier.set('token:b2', { value: null, at: 2 });
    await raw.set(`${prefix}${L2_FORMAT}:token:b3`, '-'); // a tombstone reads as a miss
    const sent = vi.spyOn(client, 'sendCommand');
    try {
      const got = await Promise.all(['token:b1', 'token:b2', 'token:b3', 'token:none', 'token:b1'].map((k) => tier.get(k)));
      expect(got).toEqual([{ value: { id: 'b1' }, at: 1 }, { value: null, at: 2 }, undefined, undefined, { value: { id: 'b1' }, at: 1 }]);
      expect(sent.mock.calls.map(([c]) => c.name)).toEqual(['mget']);
    } finally {
      sent.mockRestore();
    }
  });

  it('stores records under a versioned key with the configured TTL', async () => {
    await tier.set('token:abc', { value: { id: 't1' }, at: 1234 });
    expect(JSON.parse((await raw.get(`${prefix}${L2_FORMAT}:token:abc`))!)).toEqual({ value: { id: 't1' }, at: 1234 });
    const ttl = await raw.pttl(`${prefix}${L2_FORMAT}:token:abc`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await tier.get('token:abc')).toEqual({ value: { id: 't1' }, at: 1234 });
  });

  it('caches absent records with the short negative TTL', async () => {
    await tier.set('token:none', { value: null, at: 1 });
    expect(await tier.get('token:none')).toEqual({ value: null, at: 1 });
    expect(await raw.pttl(`${prefix}${L2_FORMAT}:token:none`)).toBeLessThanOrEqual(2_000);
  });

  it('never reads another format version, nor an unreadable value', async () => {
    await raw.set(`${prefix}v99:token:future`, JSON.stringify({ shape: 'new' }));
    expect(await tier.get('token:future')).toBeUndefined();
    // an entry an older release wrote (v1: token records without restrictions) is never read
    await raw.set(`${prefix}v1:token:older`, JSON.stringify({ at: Date.now(), value: { id: 't-old' } }));
    expect(await tier.get('token:older')).toBeUndefined();
    await raw.set(`${prefix}${L2_FORMAT}:token:garbage`, '{not json');
    expect(await tier.get('token:garbage')).toBeUndefined();
  });

  it('refuses to re-cache an invalidated key for the tombstone time', async () => {
    await tier.set('user:u1', { value: { enabled: true }, at: 1 });
    await tier.invalidate(['user:u1']);
    expect(await tier.get('user:u1')).toBeUndefined();
    // A store read that started before the write and ends after it must not put the old record back.
    await tier.set('user:u1', { value: { enabled: true }, at: 1 });
    expect(await tier.get('user:u1')).toBeUndefined();
    expect(await raw.pttl(`${prefix}${L2_FORMAT}:user:u1`)).toBeLessThanOrEqual(1_000);
  });

  it('answers "miss" without throwing when Redis is unreachable, and logs it once', async () => {
    const dead = { ...cfg, url: `redis://127.0.0.1:${await freePort()}` };
    const c = createRedisClient(dead);
    const t = new RedisTier(c, { ...dead, logger });
    try {
      await until(() => t.state === 'down');
      expect(await t.get('token:x')).toBeUndefined();
      await t.set('token:x', { value: 1, at: 1 });
      await t.invalidate(['token:x']);
      await new Promise((r) => setTimeout(r, 300));
      expect(logs.filter((l) => l.includes('redis unavailable') && l.includes(dead.url.split(':')[2]!)).length).toBeLessThanOrEqual(1);
    } finally {
      t.close();
      c.disconnect();
    }
  });
});

describe('describeRedis', () => {
  it('hides a password', () => {
    expect(describeRedis({ ...cfg, url: 'redis://user:s3cret@cache:6379/2' })).toBe('redis://***@cache:6379/2');
  });
});

describe('parseEvictionMessage', () => {
  it.each([
    ['["token:a","user:b"]', ['token:a', 'user:b']],
    ['not json', undefined],
    ['{"a":1}', undefined],
    ['[1,2]', undefined],
  ])('%s', (msg, keys) => {
    expect(parseEvictionMessage(msg)).toEqual(keys);
  });
});
