// The Redis part of the configuration: environment overrides and clear errors naming the key.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

describe('redis configuration', () => {
  it('is off by default and read from REDIS_* variables', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).redis.url).toBe('');
    const c = loadConfig({ NODE_ENV: 'test', REDIS_URL: 'redis://127.0.0.1:6380/2', REDIS_KEY_PREFIX: 'gh1:', REDIS_COMMAND_TIMEOUT_MS: '30', CACHE_STALE_MAX_MS: '0' });
    expect(c.redis).toMatchObject({ url: 'redis://127.0.0.1:6380/2', keyPrefix: 'gh1:', commandTimeoutMs: 30, mode: 'standalone' });
    expect(c.cache.staleMaxMs).toBe(0);
  });

  it.each([
    [{ REDIS_URL: 'http://cache:6379' }, /redis\.url/],
    [{ REDIS_COMMAND_TIMEOUT_MS: 'soon' }, /redis\.commandTimeoutMs/],
    [{ REDIS_MODE: 'sentinel' }, /redis\.sentinels: needs at least one host:port/],
    [{ REDIS_MODE: 'cluster' }, /redis\.clusterNodes: needs at least one host:port/],
    [{ REDIS_MODE: 'ring' }, /redis\.mode/],
  ])('%o is refused with the key named', (env, message) => {
    expect(() => loadConfig({ NODE_ENV: 'test', ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'test', ...env })).toThrow(message);
  });
});
