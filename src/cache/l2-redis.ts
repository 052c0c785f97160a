// cache/: L2, the shared Redis tier (ioredis; standalone, Sentinel or Cluster). Records live under
// `<prefix><format>:<cache key>` (format `v2`) as JSON {at, value} with TTLs from config (absent records: a short one).
// The format in the key is the value's version: an instance reading a newer or older format
// never sees it, so a rolling upgrade cannot misread an entry.
// Redis down or slower than the command timeout: every call answers "miss" at once, the state
// change is logged once, a probe brings the tier back, and invalidations that could not be applied
// meanwhile are replayed first — so Redis returning can never resurrect a revoked token.
// /!\ Hot path (get).
import DataLoader from 'dataloader';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Cached } from './l1.js';
import type { SharedCacheTier } from './tier.js';

/**
 * Version of the stored value format; bump it when Cached's shape changes. v2: token records carry
 * `restrictions` (issue 20) — an older instance would write them without, and a newer one would
 * read a restricted token as unrestricted.
 */
export const L2_FORMAT = 'v2';
/** What an invalidated key holds for `tombstoneMs`: a miss that refuses to be overwritten. */
const TOMBSTONE = '-';
/** Beyond this many unapplied invalidations, recovery empties this deployment's keys instead. */
const MAX_PENDING = 10_000;
/** Most keys read by one MGET. */
const MAX_BATCH = 128;
/** How often a Cluster command client reads the slot map again. */
const SLOTS_REFRESH_MS = 1000;

/** SET unless the key holds a tombstone: a store read that raced an invalidation cannot re-cache the old record. */
const SET_UNLESS_TOMBSTONE = `
if redis.call('GET', KEYS[1]) == ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export type RedisClient = Redis | Cluster;
export type RedisState = 'connecting' | 'up' | 'down';

export type RedisTierOptions = Pick<Config['redis'], 'keyPrefix' | 'ttlMs' | 'negativeTtlMs' | 'tombstoneMs' | 'probeIntervalMs'> & {
  logger: Logger;
};

/** True when the configuration names a Redis to use. */
export function redisConfigured(cfg: Config['redis']): boolean {
  if (cfg.mode === 'sentinel') return cfg.sentinels.length > 0;
  if (cfg.mode === 'cluster') return cfg.clusterNodes.length > 0;
  return cfg.url !== '';
}

/**
 * An ioredis client for the configured mode. Commands fail fast while disconnected (no offline
 * queue) and after `commandTimeoutMs`, so a request never waits on a sick Redis.
 * `waitForConnection`: queue commands while (re)connecting and never time them out — for the
 * pub/sub subscriber, which must survive reconnects, and short-lived publishers like the CLI.
 */
export function createRedisClient(cfg: Config['redis'], opts: { waitForConnection?: boolean } = {}): RedisClient {
  const common: RedisOptions = {
    commandTimeout: opts.waitForConnection ? undefined : cfg.commandTimeoutMs,
    enableOfflineQueue: Boolean(opts.waitForConnection),
    maxRetriesPerRequest: opts.waitForConnection ? null : 0,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    lazyConnect: false,
    // No auto-pipelining: the L2 look-ups of a turn already go out as one MGET (RedisTier's
    // `reads`), and wrapping that one command in an automatic pipeline doubled the CPU of each L2
    // look-up (13–16 vs 7–8 µs in batches of 11, test/bench/README.md).
    enableAutoPipelining: false,
  };
  const fromUrl = cfg.url ? new URL(cfg.url) : undefined;
  const auth = {
    username: fromUrl?.username ? decodeURIComponent(fromUrl.username) : undefined,
    password: fromUrl?.password ? decodeURIComponent(fromUrl.password) : undefined,
    db: fromUrl && fromUrl.pathname.length > 1 ? Number(fromUrl.pathname.slice(1)) : undefined,
    tls: fromUrl?.protocol === 'rediss:' ? {} : undefined,
  };
  if (cfg.mode === 'cluster') {
    return new Cluster(cfg.clusterNodes, {
      enableOfflineQueue: common.enableOfflineQueue,
      // A Cluster reads one GET per key (an MGET cannot cross slots): pipelined per node, one write each.
      enableAutoPipelining: !opts.waitForConnection,
      clusterRetryStrategy: (times) => Math.min(50 * times, 1000),
      // Fail fast here too. By default ioredis re-sends a command whose node connection closed, or
      // that a node answered CLUSTERDOWN, every 100 ms until a replica is promoted: with a master
      // dead, every L2 command of its slots — and, while its slots are uncovered, of every slot —
      // waited out the failover (2–3 s) whatever commandTimeoutMs said. Requests stalled, and so
      // did the change-feed follower (it invalidates L2 before it moves on), which kept a revoked
      // token alive past the poll bound (test/integration/redis-cluster.test.ts).
      // What those retries also did — refresh the slot map — a refresh every second does instead:
      // without it, once a node's connection had ended (its node killed, or a connection that
      // timed out on a loaded machine), the auto-pipelined commands of its slots could bounce
      // between MOVED answers and never reach it again, and the tier stayed down.
      ...(opts.waitForConnection ? {} : { retryDelayOnFailover: 0, retryDelayOnClusterDown: 0, slotsRefreshInterval: SLOTS_REFRESH_MS }),
      redisOptions: { ...common, username: auth.username, password: auth.password, tls: auth.tls },
    });
  }
  if (cfg.mode === 'sentinel') {
    return new Redis({ ...common, ...auth, sentinels: cfg.sentinels, name: cfg.sentinelName });
  }
  return new Redis(cfg.url, common);
}

/** How long a Cluster waits before it sends a SUBSCRIBE that was lost again. */
const RESUBSCRIBE_DELAY_MS = 200;

/**
 * SUBSCRIBE on a subscriber connection once it is ready. A SUBSCRIBE queued while connecting puts
 * the connection in subscriber mode before ioredis's own ready check runs, which then fails with
 * "only subscriber commands may be used" and the subscription is silently lost (seen with two
 * channels on one connection). After a reconnect ioredis re-subscribes by itself — except a
 * Cluster client: its subscriber connection, replaced over and over while every node is down,
 * comes back subscribed to nothing (ioredis 5.9: the channels are copied from a replacement that
 * never subscribed; test/integration/redis-cluster.test.ts). So a Cluster SUBSCRIBEs again each
 * time it is ready again; on a connection already subscribed that changes nothing.
 * A Cluster's "ready" is not its subscriber connection's either: that one (ioredis's
 * ClusterSubscriber) connects lazily, and a SUBSCRIBE reaching it while it still handshakes is
 * written at once, the handshake then fails, the connection ends and is replaced with only the
 * channels it had confirmed — the SUBSCRIBE queued behind it is rejected, and the Cluster, ready
 * all along, never says "ready" again (under load, one instance in a few came up without the
 * eviction channel: test/integration/redis-cluster.test.ts). So a Cluster's rejected SUBSCRIBE is
 * sent again, to the replacement, until one is confirmed; the promise resolves with the first.
 */
export function subscribeWhenReady(subscriber: RedisClient, channel: string): Promise<unknown> {
  if (subscriber.isCluster) {
    return new Promise((resolve) => {
      let retry: NodeJS.Timeout | undefined;
      const subscribe = () => {
        clearTimeout(retry);
        if (subscriber.status === 'end') return; // closed
        subscriber.subscribe(channel).then(resolve, () => {
          // Lost with a subscriber connection that ended first: again, on its replacement (the change feed covers the meantime).
          retry = setTimeout(subscribe, RESUBSCRIBE_DELAY_MS);
          retry.unref();
        });
      };
      subscriber.on('ready', subscribe);
      if (subscriber.status === 'ready') subscribe();
    });
  }
  if (subscriber.status === 'ready') return subscriber.subscribe(channel);
  return new Promise((resolve, reject) => subscriber.once('ready', () => subscriber.subscribe(channel).then(resolve, reject)));
}

/** A Redis URL fit for a log line: the password replaced. */
export function describeRedis(cfg: Config['redis']): string {
  if (cfg.mode !== 'standalone') return `${cfg.mode} (${(cfg.mode === 'cluster' ? cfg.clusterNodes : cfg.sentinels).length} nodes)`;
  return cfg.url.replace(/\/\/[^@/]*@/, '//***@');
}

type WithScript = RedisClient & {
  setUnlessTombstone(key: string, value: string, ttlMs: number, tombstone: string): Promise<number>;
};

export class RedisTier implements SharedCacheTier {
  private stateNow: RedisState = 'connecting';
  private readonly pending = new Set<string>();
  private overflowed = false;
  private probe: NodeJS.Timeout | undefined;
  private probing = false;
  private closed = false;
  private readonly client: WithScript;
  /**
   * The reads of one turn of the event loop, sent as one MGET once every request that turn
   * brought has asked (setImmediate runs after the poll phase). Auto-pipelining alone flushes
   * after each request's callback, so under load every request paid its own command, write and
   * reply. A Cluster spreads keys over slots an MGET cannot cross: there, one GET per key.
   */
  private readonly reads: DataLoader<string, string | null>;

  constructor(
    client: RedisClient,
    private readonly opts: RedisTierOptions,
  ) {
    client.defineCommand('setUnlessTombstone', { numberOfKeys: 1, lua: SET_UNLESS_TOMBSTONE });
    this.client = client as WithScript;
    this.reads = new DataLoader<string, string | null>(
      (keys) => (client.isCluster ? Promise.all(keys.map((k) => client.get(k))) : client.mget(keys as string[])),
      { cache: false, maxBatchSize: MAX_BATCH, batchScheduleFn: (send) => setImmediate(send) },
    );
    client.on('ready', () => void this.tryRecover());
    client.on('error', () => {}); // reported through state changes, once, not per reconnect attempt
    client.on('close', () => {
      if (this.stateNow === 'up') this.markDown(new Error('connection closed'));
    });
    // Not up until proven: 'ready' brings it up; if that has not happened by the first probe, it is down.
    this.scheduleProbe(this.opts.probeIntervalMs);
  }

  get state(): RedisState {
    return this.stateNow;
  }

  private key(key: string): string {
    return `${this.opts.keyPrefix}${L2_FORMAT}:${key}`;
  }

  // /!\ Hot path
  async get<T>(key: string): Promise<Cached<T> | undefined> {
    if (this.stateNow !== 'up') return undefined;
    let raw: string | null;
    try {
      raw = await this.reads.load(this.key(key));
    } catch (e) {
      this.markDown(e);
      return undefined;
    }
    if (raw === null || raw === TOMBSTONE) return undefined;
    try {
      const parsed = JSON.parse(raw) as Cached<T>;
      return typeof parsed.at === 'number' && 'value' in parsed ? parsed : undefined;
    } catch {
      return undefined; // unreadable entry: treat as a miss, the store answers
    }
  }

  async set<T>(key: string, entry: Cached<T>): Promise<void> {
    if (this.stateNow !== 'up') return;
    const ttl = entry.value === null ? this.opts.negativeTtlMs : this.opts.ttlMs;
    if (ttl <= 0) return;
    try {
      await this.client.setUnlessTombstone(this.key(key), JSON.stringify(entry), ttl, TOMBSTONE);
    } catch (e) {
      this.markDown(e);
    }
  }

  async invalidate(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    if (this.stateNow !== 'up') {
      this.remember(keys);
      return;
    }
    try {
      await Promise.all(keys.map((k) => this.client.set(this.key(k), TOMBSTONE, 'PX', this.opts.tombstoneMs)));
    } catch (e) {
      this.remember(keys);
      this.markDown(e);
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.probe);
  }

  private remember(keys: readonly string[]): void {
    if (this.overflowed) return;
    for (const k of keys) this.pending.add(k);
    if (this.pending.size > MAX_PENDING) {
      this.pending.clear();
      this.overflowed = true;
    }
  }

  private markDown(e: unknown): void {
    if (this.stateNow === 'down') return;
    const was = this.stateNow;
    this.stateNow = 'down';
    this.opts.logger.warn('redis unavailable: L2 skipped, reading through to the store', {
      error: (e as Error)?.message,
      was,
    });
    this.scheduleProbe(this.opts.probeIntervalMs);
  }

  private scheduleProbe(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.probe);
    this.probe = setTimeout(() => void this.tryRecover(), ms);
    this.probe.unref();
  }

  /** Probes Redis; on success replays the invalidations it missed, then puts the tier back in use. */
  private async tryRecover(): Promise<void> {
    if (this.stateNow === 'up' || this.probing || this.closed) return;
    this.probing = true;
    try {
      await this.client.ping();
      // A Cluster node answers PING while the cluster refuses every key (a master dead and its
      // replica not yet promoted, nodes restarted and not yet joined): up only once it serves.
      if (this.client.isCluster && !String(await this.client.cluster('INFO')).includes('cluster_state:ok')) throw new Error('cluster state not ok');
      if (this.overflowed) {
        await this.dropAllEntries();
        this.overflowed = false;
      }
      const keys = [...this.pending];
      if (keys.length) {
        await Promise.all(keys.map((k) => this.client.set(this.key(k), TOMBSTONE, 'PX', this.opts.tombstoneMs)));
        for (const k of keys) this.pending.delete(k);
      }
      const was = this.stateNow;
      this.stateNow = 'up';
      if (was === 'down') this.opts.logger.info('redis available again: L2 in use', { replayedInvalidations: keys.length });
      else this.opts.logger.info('redis connected: L2 in use');
    } catch (e) {
      if (this.stateNow === 'connecting') this.markDown(e);
      else this.scheduleProbe(this.opts.probeIntervalMs);
    } finally {
      this.probing = false;
    }
  }

  /** Too many missed invalidations to replay one by one: drop every entry of this format. */
  private async dropAllEntries(): Promise<void> {
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client as Redis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${this.opts.keyPrefix}${L2_FORMAT}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await Promise.all(keys.map((k) => node.unlink(k)));
      } while (cursor !== '0');
    }
    this.opts.logger.info('redis: too many missed invalidations, L2 entries dropped');
  }
}
