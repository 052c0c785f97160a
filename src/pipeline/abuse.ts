// pipeline/: abuse limits — failed authentications counted per client address and per presented
// token hint, so guessing tokens is useless, and an optional request rate per token. Counters
// live in Redis when it is configured (they hold across instances) and in-process otherwise;
// while Redis is down an in-process limiter stands in (rate-limiter-flexible's insurance).
//
// Counted on refusal, judged from memory: the refusal that reaches a limit puts the address or
// hint on this process's block list and announces it on a Redis channel, so every instance
// refuses it from then on. The check before resolving reads only that list: a caller with a
// valid token costs no Redis command and no hashing here, and a blocked one no store query.
// An announcement lost (Redis restarting) costs at most one more counted guess per instance:
// that instance's own refusal reads the shared counter and blocks.
// /!\ Hot path (check).
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import { subscribeWhenReady, type RedisClient } from '../cache/l2-redis.js';
import { API_TOKEN_HEADER, AUTHORIZATION_HEADER } from '../credentials/extract-rest.js';
import { abuseRefusals } from '../observability/metrics.js';
import { RateLimited, TooManyFailedAttempts, type GatehouseError } from '../outcomes/errors.js';

export interface AbuseLimitOptions {
  /** Failed authentications per client address within `windowSeconds` before 429 (0 = off). */
  failuresPerIp: number;
  /** Failed authentications per token hint within `windowSeconds` before 429 (0 = off). */
  failuresPerToken: number;
  windowSeconds: number;
  /** Requests per second per authenticated token (0 = off). */
  tokenRequestsPerSecond: number;
  /** Shared counters; undefined = in-process only. */
  redis?: RedisClient;
  /** A connection in subscriber mode, for the blocks other instances announce. */
  subscriber?: RedisClient;
  /** Whether Redis is up (the L2 tier's view): while it is not, counting is in-process at once instead of after a command timeout. */
  redisUp?: () => boolean;
  keyPrefix: string;
}

export interface AbuseLimits {
  /** Before resolving: a 429 when the address or the token hint has failed too often. No I/O. */
  check(ip: string, secret: string | undefined): TooManyFailedAttempts | undefined;
  /** After a refusal: counts it when it is a failed authentication (before the answer goes out). */
  refused(err: GatehouseError, ip: string, secret: string | undefined): Promise<void>;
  /** After a success: a 429 when the token's request rate is exhausted; undefined at once (nothing to await) when no rate is set. */
  consumeRequest(tokenId: string): Promise<RateLimited | undefined> | undefined;
}

/**
 * Refusals that mean "this was a guess": a token that does not exist. A missing credential is
 * not a guess, and a disabled or expired token is a real one its owner has to fix — counting it
 * would let one misconfigured client lock out every caller behind the same address.
 */
const FAILED_AUTHENTICATION = new Set(['CredentialMalformed', 'CredentialUnknown']);

/** Most blocked addresses and hints remembered per process (each took a full window of failures). */
const MAX_BLOCKS = 100_000;

/**
 * A token's hint: SHA-256 of its first 8 and last 4 characters. Never the secret, and the same
 * for every replay of one guess, so a client cycling addresses is still counted per token.
 */
export function tokenHint(secret: string): string {
  return createHash('sha256').update(`${secret.slice(0, 8)}…${secret.slice(-4)}`).digest('base64url').slice(0, 16);
}

/** The raw credential a REST request presents (apiToken, Bearer or organizationKey), for its hint. */
export function presentedSecret(headers: IncomingHttpHeaders): string | undefined {
  const apiToken = headers[API_TOKEN_HEADER];
  if (typeof apiToken === 'string' && apiToken !== '') return apiToken.trim();
  const authorization = headers[AUTHORIZATION_HEADER];
  if (typeof authorization === 'string' && authorization !== '') return authorization.replace(/^\S+\s+/, '').trim();
  const orgKey = headers.organizationkey;
  return typeof orgKey === 'string' && orgKey !== '' ? orgKey.trim() : undefined;
}

type LimitName = 'ip' | 'hint';

/** A block announced on the channel: which limit, whose key (an address or a hint, never a secret), for how long. */
interface BlockMessage {
  limit: LimitName;
  key: string;
  ms: number;
}

/** The block of a channel message, or undefined when it is not one of ours. */
export function parseBlockMessage(message: string): BlockMessage | undefined {
  try {
    const m = JSON.parse(message) as Partial<BlockMessage>;
    if ((m.limit === 'ip' || m.limit === 'hint') && typeof m.key === 'string' && m.key.length <= 256 && Number.isFinite(m.ms) && m.ms! > 0) return m as BlockMessage;
  } catch {
    // not JSON: ignored below
  }
  return undefined;
}

/** A wait in milliseconds as Retry-After seconds (at least 1). */
const secondsToWait = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** This process's block list: addresses and hints refused until their counter's window ends. */
class BlockList {
  private readonly lru = new LRUCache<string, number>({ max: MAX_BLOCKS, ttlAutopurge: false });
  /** When the last block ends (the LRU's size still counts expired entries until they are read). */
  private lastEnds = 0;

  block(key: string, ms: number): void {
    const until = Date.now() + ms;
    this.lru.set(key, until, { ttl: ms });
    this.lastEnds = Math.max(this.lastEnds, until);
  }

  /** Seconds to wait while `key` is blocked, else undefined. */
  retryAfter(key: string): number | undefined {
    const until = this.lru.get(key);
    return until === undefined ? undefined : secondsToWait(until - Date.now());
  }

  get empty(): boolean {
    return Date.now() >= this.lastEnds;
  }
}

export function createAbuseLimits(opts: AbuseLimitOptions): AbuseLimits {
  const redisUp = opts.redisUp ?? (() => true);
  /** The limiter to use now: Redis-backed while Redis is up, the in-process one otherwise. */
  const limiter = (name: string, points: number, duration: number): (() => RateLimiterAbstract) | undefined => {
    if (points <= 0) return undefined;
    const keyPrefix = `${opts.keyPrefix}abuse:${name}`;
    const memory = new RateLimiterMemory({ points, duration, keyPrefix });
    if (!opts.redis) return () => memory;
    // Redis refused or slow (no offline queue, short command timeout): count in-process meanwhile.
    const shared = new RateLimiterRedis({ storeClient: opts.redis, points, duration, keyPrefix, insuranceLimiter: memory });
    return () => (redisUp() ? shared : memory);
  };
  const failures: Record<LimitName, (() => RateLimiterAbstract) | undefined> = {
    ip: limiter('ip', opts.failuresPerIp, opts.windowSeconds),
    hint: limiter('hint', opts.failuresPerToken, opts.windowSeconds),
  };
  const byToken = limiter('rate', opts.tokenRequestsPerSecond, 1);
  const blocks: Record<LimitName, BlockList> = { ip: new BlockList(), hint: new BlockList() };

  // Blocks reached on other instances
  const channel = `${opts.keyPrefix}abuse`;
  if (opts.subscriber) {
    // (the listener goes with the connection, which the cache tiers close)
    opts.subscriber.on('message', (ch: string, message: string) => {
      if (ch !== channel) return;
      const m = parseBlockMessage(message);
      if (m) blocks[m.limit].block(m.key, m.ms);
    });
    subscribeWhenReady(opts.subscriber, channel).catch(() => {}); // the eviction channel reports subscription trouble
  }

  /** Counts one failure under `limit`; the one that reaches it blocks here and is announced everywhere. */
  const count = async (limit: LimitName, key: string): Promise<void> => {
    const l = failures[limit];
    if (!l) return;
    const current = l();
    let res: RateLimiterRes;
    try {
      res = await current.penalty(key);
    } catch {
      return; // the limiter's own store failed: the limits protect, they do not gate
    }
    if (res.consumedPoints < current.points) return;
    blocks[limit].block(key, res.msBeforeNext);
    if (opts.redis && redisUp()) {
      const message: BlockMessage = { limit, key, ms: res.msBeforeNext };
      // Awaited so the instances have it before this refusal is answered; Redis down: they learn on their own refusal.
      await opts.redis.publish(channel, JSON.stringify(message)).catch(() => {});
    }
  };

  /** One request of the token's rate; the 429 once it is exhausted. */
  const consume = async (current: RateLimiterAbstract, tokenId: string): Promise<RateLimited | undefined> => {
    try {
      await current.consume(tokenId);
      return undefined;
    } catch (e) {
      // Rejected with a RateLimiterRes when the rate is exhausted, with an Error when the store failed
      if (e instanceof Error) return undefined;
      abuseRefusals.inc({ limit: 'token-rate' });
      return new RateLimited(secondsToWait((e as RateLimiterRes).msBeforeNext));
    }
  };

  return {
    check(ip, secret) {
      const address = blocks.ip.retryAfter(ip);
      // The hint costs a SHA-256: computed only when some hint is blocked
      const hint = address === undefined && secret && !blocks.hint.empty ? blocks.hint.retryAfter(tokenHint(secret)) : undefined;
      const seconds = address ?? hint;
      if (seconds === undefined) return undefined;
      abuseRefusals.inc({ limit: address !== undefined ? 'ip' : 'token-hint' });
      return new TooManyFailedAttempts(seconds);
    },
    async refused(err, ip, secret) {
      if (!FAILED_AUTHENTICATION.has(err.code)) return;
      await Promise.all([count('ip', ip), secret ? count('hint', tokenHint(secret)) : undefined]);
    },
    consumeRequest(tokenId) {
      return byToken ? consume(byToken(), tokenId) : undefined;
    },
  };
}
