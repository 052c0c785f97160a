// The cache tiers wired for one instance, with a Redis that is not there: no error, a degraded
// state, and the Redis password never in a log line.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, readEnv } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { openStore, type Store } from '../store/index.js';
import { freePort } from '../../test/helpers/redis-server.js';
import { openCacheTiers, type CacheTiers } from './tiers.js';

const PASSWORD = 'hunter2-do-not-log';
const logs: string[] = [];
let store: Store;
let tiers: CacheTiers;

beforeAll(async () => {
  store = openStore('sqlite::memory:');
  await store.migrate();
  const config = parseConfig(
    readEnv({ NODE_ENV: 'test', REDIS_URL: `redis://gatehouse:${PASSWORD}@127.0.0.1:${await freePort()}/3` }, {
      redis: { probeIntervalMs: 100 },
    }),
  );
  const logger = createLogger({ level: 'debug', stream: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
  tiers = await openCacheTiers(config, store, logger);
});
afterAll(async () => {
  await tiers.close();
  await store.close();
});

describe('cache tiers with Redis unreachable', () => {
  it('resolve through the store, report the degradation, and never log the Redis password', async () => {
    const deadline = Date.now() + 3000;
    while (tiers.redisState() !== 'down' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(tiers.redisState()).toBe('down');
    const org = await store.admin.createOrganization({ actor: 't' }, 'Acme');
    const r = await tiers.recordReader.organization(org.id);
    expect(r).toMatchObject({ tier: 'store', value: { name: 'Acme' } });
    expect(logs.some((l) => l.includes('redis unavailable'))).toBe(true);
    expect(logs.join('\n')).not.toContain(PASSWORD);
  });
});
