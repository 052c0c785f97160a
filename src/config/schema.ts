// config/: owns the shape of Gatehouse's configuration and its validation (zod).
import { z } from 'zod';

const url = z.url({ protocol: /^https?$/ });
const optionalUrl = z.union([z.literal(''), url]);

export const UPSTREAM_NAMES = ['envelope', 'template', 'file'] as const;
export type UpstreamName = (typeof UPSTREAM_NAMES)[number];

const redisUrl = z.union([z.literal(''), z.url({ protocol: /^rediss?$/ })]);
const hostPort = z.object({ host: z.string().min(1), port: z.coerce.number().int().min(1).max(65535) });

const REDIS_DEFAULTS = {
  url: '',
  mode: 'standalone' as const,
  sentinels: [],
  sentinelName: 'mymaster',
  clusterNodes: [],
  keyPrefix: 'gatehouse:',
  commandTimeoutMs: 100,
  probeIntervalMs: 1000,
  ttlMs: 300000,
  negativeTtlMs: 5000,
  tombstoneMs: 5000,
};

/**
 * Redis through ioredis: `standalone` uses `url` (redis://[user:pass@]host:port/db); `sentinel`
 * uses `sentinels` + `sentinelName` (credentials and db from `url`); `cluster` uses `clusterNodes`.
 */
const redisSchema = z.object({
  url: redisUrl,
  mode: z.enum(['standalone', 'sentinel', 'cluster']),
  sentinels: z.array(hostPort),
  sentinelName: z.string().min(1),
  clusterNodes: z.array(hostPort),
  /** Prefix of every key and of the eviction channel (`<prefix>evict`), so several deployments (or test runs) can share one Redis. */
  keyPrefix: z.string().max(64),
  /** A command slower than this counts as Redis down: the request reads through to the store. */
  commandTimeoutMs: z.coerce.number().int().min(1).max(10000),
  /** While Redis is down, how often it is probed to come back. */
  probeIntervalMs: z.coerce.number().int().min(50).max(60000),
  ttlMs: z.coerce.number().int().min(1000),
  negativeTtlMs: z.coerce.number().int().min(0),
  /** How long an invalidated key refuses to be re-cached (covers a store read racing the write). */
  tombstoneMs: z.coerce.number().int().min(100),
});

export const configSchema = z
  .object({
    env: z.enum(['development', 'test', 'production']).default('development'),
    server: z.object({
      host: z.string().min(1),
      port: z.coerce.number().int().min(0).max(65535),
      /** Base URL that clients use to reach the gateway; empty = derived from the request's Host. */
      publicUrl: optionalUrl,
    }),
    store: z.object({
      /** `sqlite:<file>`, `sqlite::memory:` or a `postgres://` URL. */
      url: z
        .string()
        .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<file> or a postgres:// URL'),
      /** How often each instance reads the change feed (bounds cross-process staleness without Redis). */
      changeFeedPollMs: z.coerce.number().int().min(50).max(60000),
    }),
    cache: z.object({
      l1MaxEntries: z.coerce.number().int().min(100),
      l1TtlMs: z.coerce.number().int().min(100),
      negativeTtlMs: z.coerce.number().int().min(0),
      /** Store down: cached positive records keep serving this long after they were fetched (0 = never stale). */
      staleMaxMs: z.coerce.number().int().min(0).default(300000),
    }),
    /** L2: the shared Redis tier (cache/l2-redis.ts) and the eviction channel. Empty url = L1 only. */
    redis: redisSchema.default(REDIS_DEFAULTS),
    /** `last_used_at` / `last_used_ip`: one store write per token per interval (store/last-used.ts). */
    lastUsed: z.object({ flushIntervalMs: z.coerce.number().int().min(100).max(3600000) }).default({ flushIntervalMs: 10000 }),
    /** Upstream base URLs by name; empty = the in-process sample upstream (development only). */
    upstreams: z.object({ envelope: optionalUrl, template: optionalUrl, file: optionalUrl }),
    /** First path segment after `/Api/v{N}/` → upstream name. */
    routes: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.enum(UPSTREAM_NAMES)),
    proxy: z.object({
      timeoutMs: z.coerce.number().int().min(1),
      connectTimeoutMs: z.coerce.number().int().min(1),
      maxSockets: z.coerce.number().int().min(1),
    }),
    identity: z.object({
      /** HS256 key shared with the upstreams; empty = random per process (development only). */
      secret: z.union([z.literal(''), z.string().min(32, 'must be at least 32 characters')]),
      ttlSeconds: z.coerce.number().int().min(5).max(3600),
      issuer: z.string().min(1),
      audience: z.string().min(1),
    }),
    log: z.object({
      level: z.enum(['error', 'warn', 'info', 'debug', 'silent']),
      access: z.coerce.boolean(),
    }),
  })
  .superRefine((cfg, ctx) => {
    const r = cfg.redis;
    if (r.mode === 'sentinel' && r.sentinels.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['redis', 'sentinels'], message: 'needs at least one host:port in sentinel mode' });
    }
    if (r.mode === 'cluster' && r.clusterNodes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['redis', 'clusterNodes'], message: 'needs at least one host:port in cluster mode' });
    }
    if (cfg.env !== 'production') return;
    if (!cfg.identity.secret) {
      ctx.addIssue({ code: 'custom', path: ['identity', 'secret'], message: 'is required in production (IDENTITY_SECRET)' });
    }
    for (const name of UPSTREAM_NAMES) {
      if (!cfg.upstreams[name]) {
        ctx.addIssue({ code: 'custom', path: ['upstreams', name], message: 'is required in production' });
      }
    }
  });

export type Config = z.infer<typeof configSchema>;
