// cache/: builds the cache tiers for one gateway instance in one place — L1, L2 (Redis, when
// configured), the eviction channel, the change-feed follower — and connects the store's
// committed writes to the evictions.
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayStore, Store } from '../store/index.js';
import { followChanges, type ChangeFollower } from './change-follower.js';
import { openEvictionChannel, type EvictionChannel } from './eviction-channel.js';
import { L1Cache } from './l1.js';
import { LegacyOrgKeyForms } from './legacy-org-keys.js';
import { createRedisClient, describeRedis, redisConfigured, RedisTier, type RedisClient, type RedisState } from './l2-redis.js';
import { RecordReader } from './record-reader.js';
import { TieredResolver } from './resolver.js';

export interface CacheTiers {
  l1: L1Cache;
  resolver: TieredResolver;
  /** The read side of the credential records, through L1 → L2 → store. */
  recordReader: RecordReader;
  follower: ChangeFollower;
  /** For /readyz: `disabled` when no Redis is configured. */
  redisState(): RedisState | 'disabled';
  /** The command client (no offline queue) when Redis is configured: shared by the abuse limits. */
  redis?: RedisClient;
  /** The subscriber connection when Redis is configured: other fleet-wide channels (the abuse blocks) listen on it too. */
  subscriber?: RedisClient;
  /** Resolves once the evictions of writes committed so far are published (a caller that must answer "done everywhere" waits here). */
  evictionsSent(): Promise<void>;
  close(): Promise<void>;
}

/** `readModel` defaults to the store's own; the gateway passes an instrumented one (metrics). */
export async function openCacheTiers(config: Config, store: Store, logger: Logger, readModel: GatewayStore = store.gateway): Promise<CacheTiers> {
  const l1 = new L1Cache({
    maxEntries: config.cache.l1MaxEntries,
    ttlMs: config.cache.l1TtlMs,
    negativeTtlMs: config.cache.negativeTtlMs,
    staleMaxMs: config.cache.staleMaxMs,
  });

  let l2: RedisTier | undefined;
  let channel: EvictionChannel | undefined;
  const clients: RedisClient[] = [];
  let resolver: TieredResolver;
  // Every eviction path (channel, local commit, change feed) goes through these two, so the
  // legacy organization-key forms are reloaded wherever their key is evicted.
  const legacyOrgKeys = new LegacyOrgKeyForms(() => readModel.legacyOrgKeyForms());
  const reloadFailed = (e: unknown) =>
    logger.warn('legacy organization-key forms unreadable; the last known are kept until the change feed retries', { error: (e as Error).message });
  const evict = (keys: readonly string[]) => {
    resolver.evict(keys);
    return legacyOrgKeys.evicted(keys);
  };
  const clear = () => {
    resolver.clear();
    legacyOrgKeys.refresh().catch(reloadFailed);
  };
  if (redisConfigured(config.redis)) {
    const client = createRedisClient(config.redis);
    const subscriber = createRedisClient(config.redis, { waitForConnection: true });
    clients.push(client, subscriber);
    l2 = new RedisTier(client, { ...config.redis, logger });
    resolver = new TieredResolver(l1, l2, { staleMaxMs: config.cache.staleMaxMs });
    channel = await openEvictionChannel({
      publisher: client,
      subscriber,
      channel: `${config.redis.keyPrefix}evict`,
      l2,
      onEvict: (keys) => void evict(keys)?.catch(reloadFailed),
      onResync: clear,
      logger,
    });
    logger.info('L2 cache: redis', { redis: describeRedis(config.redis) });
  } else {
    resolver = new TieredResolver(l1, undefined, { staleMaxMs: config.cache.staleMaxMs });
  }

  // A write committed through this process: evict here at once, and everywhere through Redis.
  const ch = channel;
  const publishing = new Set<Promise<void>>();
  const unlisten = store.onCommittedChanges((keys) => {
    if (!ch) return void evict(keys)?.catch(reloadFailed);
    const p = ch.publish(keys).finally(() => publishing.delete(p));
    publishing.add(p);
  });

  const follower = await followChanges(readModel, { evict, clear }, {
    pollMs: config.store.changeFeedPollMs,
    l2,
    onError: (e) => logger.warn('change feed unreadable; cache entries expire by TTL until it returns', { error: (e as Error).message }),
    onRecover: () => logger.info('change feed readable again; L1 emptied'),
  });
  // Read after the follower has its cursor: an import committed in between is in its next poll.
  await legacyOrgKeys.refresh();

  return {
    l1,
    resolver,
    recordReader: new RecordReader(resolver, readModel, legacyOrgKeys),
    follower,
    redisState: () => l2?.state ?? 'disabled',
    redis: clients[0],
    subscriber: clients[1],
    evictionsSent: async () => {
      await Promise.all([...publishing]);
    },
    async close() {
      unlisten();
      follower.stop();
      l2?.close();
      await channel?.close();
      for (const c of clients) c.disconnect();
    },
  };
}
