// pipeline/: abuse limits — failed authentications counted per client address and per presented
// token hint, so guessing tokens is useless, and an optional request rate per token. Counters
// live in Redis when it is configured (they hold across instances) and in-process otherwise;
// while Redis is down an in-process limiter stands in (rate-limiter-flexible's insurance).
// Checked before resolving, counted on refusal: a blocked client costs no store query.
// /!\ Hot path.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClient } from '../cache/l2-redis.js';
import { API_TOKEN_HEADER, AUTHORIZATION_HEADER } from '../credentials/extract-rest.js';
import { abuseRefusals } from '../observability/metrics.js';
import { RateLimited, TooManyFailedAttempts, type GatehouseError } from './errors.js';

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
  /** Whether Redis is up (the L2 tier's view): while it is not, counting is in-process at once instead of after a command timeout. */
  redisUp?: () => boolean;
  keyPrefix: string;
}

export interface AbuseLimits {
  /** Before resolving: a 429 when the address or the token hint has failed too often. */
  check(ip: string, secret: string | undefined): Promise<TooManyFailedAttempts | undefined>;
  /** After a refusal: counts it when it is a failed authentication (before the answer goes out). */
  refused(err: GatehouseError, ip: string, secret: string | undefined): Promise<void>;
  /** After a success: a 429 when the token's request rate is exhausted. */
  consumeRequest(tokenId: string): Promise<RateLimited | undefined>;
}

/**
 * Refusals that mean "this was a guess": a token that does not exist. A missing credential is
 * not a guess, and a disabled or expired token is a real one its owner has to fix — counting it
 * would let one misconfigured client lock out every caller behind the same address.
 */
const FAILED_AUTHENTICATION = new Set(['CredentialMalformed', 'CredentialUnknown']);

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

const retryAfter = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

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
  const byIp = limiter('ip', opts.failuresPerIp, opts.windowSeconds);
  const byHint = limiter('hint', opts.failuresPerToken, opts.windowSeconds);
  const byToken = limiter('rate', opts.tokenRequestsPerSecond, 1);

  // A store error of the limiter itself never refuses a caller: the limits protect, they do not gate.
  const read = async (l: (() => RateLimiterAbstract) | undefined, key: string) => (l ? l().get(key).catch(() => null) : null);
  const blocked = (l: (() => RateLimiterAbstract) | undefined, res: RateLimiterRes | null) => (l && res && res.consumedPoints >= l().points ? res : undefined);

  return {
    async check(ip, secret) {
      const hint = secret ? tokenHint(secret) : undefined;
      const [ipRes, hintRes] = await Promise.all([read(byIp, ip), hint ? read(byHint, hint) : null]);
      const byAddress = blocked(byIp, ipRes);
      const hit = byAddress ?? blocked(byHint, hintRes);
      if (!hit) return undefined;
      abuseRefusals.inc({ limit: byAddress ? 'ip' : 'token-hint' });
      return new TooManyFailedAttempts(retryAfter(hit));
    },
    async refused(err, ip, secret) {
      if (!FAILED_AUTHENTICATION.has(err.code)) return;
      await Promise.all([byIp?.().penalty(ip).catch(() => {}), secret ? byHint?.().penalty(tokenHint(secret)).catch(() => {}) : undefined]);
    },
    async consumeRequest(tokenId) {
      if (!byToken) return undefined;
      try {
        await byToken().consume(tokenId);
        return undefined;
      } catch (e) {
        // Rejected with a RateLimiterRes when the rate is exhausted, with an Error when the store failed
        if (e instanceof Error) return undefined;
        abuseRefusals.inc({ limit: 'token-rate' });
        return new RateLimited(retryAfter(e as RateLimiterRes));
      }
    },
  };
}
