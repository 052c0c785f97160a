// settings/: the brake on password guessing, shared by every way to sign in — the settings API's
// POST /session and the OAuth consent sign-in (POST /settings/authorize/sign-in) — and, apart, on
// set-password links. Two budgets for a password: one per client address (every login, both
// paths) and one per login name (case-insensitive, from any address), both per 15-minute window.
// Set-password links have one budget per client address.
//
// An attempt takes a point from each of its budgets before the password is looked at, and gives it
// back when the password was right (or was never judged: the store failed). So a spent budget
// refuses the right password too until its window ends (no oracle), a blocked client costs no
// store query and no scrypt, concurrent guesses cannot all slip past a check made before any of
// them is counted, and a success only returns its own point: it never resets a budget (whoever
// holds one account of their own could otherwise refill their address's budget by signing in).
//
// The client address is the one the abuse limits use (proxy/client-ip.ts: X-Forwarded-For only
// from http.trustedProxies), IPv6 counted per /56. Counters live in Redis when it is configured
// (rate-limiter-flexible's RateLimiterRedis on the gateway's own ioredis client), so a fleet shares
// them; in-process otherwise, and while Redis is down (its insurance limiter).
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ipKeyGenerator } from 'express-rate-limit';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClient } from '../cache/l2-redis.js';
import { abuseRefusals } from '../observability/metrics.js';
import { TooManyAttempts } from './errors.js';

export const WINDOW_SECONDS = 15 * 60;
/** Failed sign-ins per login name, from any address, over both paths. */
export const SIGN_IN_FAILURES_PER_LOGIN = 10;
/** Failed sign-ins per client address, against any login, over both paths. */
export const SIGN_IN_FAILURES_PER_ADDRESS = 30;
/** Refused set-password links per client address. */
export const LINK_FAILURES_PER_ADDRESS = 20;

export interface SignInBrakeOptions {
  /** The client address (proxy/client-ip.ts, honouring http.trustedProxies). */
  clientIp: (req: IncomingMessage) => string;
  /** Shared counters; undefined = in-process only. */
  redis?: RedisClient;
  /** Whether Redis is up (the L2 tier's view): while it is not, counting is in-process at once. */
  redisUp?: () => boolean;
  /** `redis.keyPrefix`. */
  keyPrefix: string;
  /** The window of every budget; WINDOW_SECONDS unless a test shortens it. */
  windowSeconds?: number;
}

export interface SignInBrake {
  /**
   * Judges a password under the sign-in budgets of the request's address and of `login`. Refused
   * with TooManyAttempts (429, Retry-After) — before `judge` runs — while either budget is spent.
   * `judge` answers the signed-in value, or undefined for a refusal, which is counted against both.
   */
  signIn<T>(req: IncomingMessage, login: string, judge: () => Promise<T | undefined>): Promise<T | undefined>;
  /** The same for a set-password link, under the address's link budget. */
  link<T>(req: IncomingMessage, judge: () => Promise<T | undefined>): Promise<T | undefined>;
}

type BudgetName = 'sign-in-address' | 'sign-in-login' | 'set-password-address';

/** One budget: its limiter now (Redis-backed while Redis is up, else in-process). */
type Budget = { name: BudgetName; limiter: () => RateLimiterAbstract };

/** A budget and the key an attempt is counted under. */
type Charge = { budget: Budget; key: string };

/** A wait in milliseconds as Retry-After seconds (at least 1). */
const secondsToWait = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The key of a login name: as the store compares them (trimmed, lower case), hashed — no login names in Redis keys. */
export function loginKey(login: string): string {
  return createHash('sha256').update(login.trim().toLowerCase()).digest('base64url').slice(0, 22);
}

export function createSignInBrake(opts: SignInBrakeOptions): SignInBrake {
  const redisUp = opts.redisUp ?? (() => true);
  const duration = opts.windowSeconds ?? WINDOW_SECONDS;
  const budget = (name: BudgetName, points: number): Budget => {
    const keyPrefix = `${opts.keyPrefix}${name}`;
    const memory = new RateLimiterMemory({ points, duration, keyPrefix });
    if (!opts.redis) return { name, limiter: () => memory };
    // Redis refused or slow (no offline queue, short command timeout): counted in-process meanwhile.
    const shared = new RateLimiterRedis({ storeClient: opts.redis, points, duration, keyPrefix, insuranceLimiter: memory });
    return { name, limiter: () => (redisUp() ? shared : memory) };
  };
  const signInAddress = budget('sign-in-address', SIGN_IN_FAILURES_PER_ADDRESS);
  const signInLogin = budget('sign-in-login', SIGN_IN_FAILURES_PER_LOGIN);
  const linkAddress = budget('set-password-address', LINK_FAILURES_PER_ADDRESS);
  const address = (req: IncomingMessage) => ipKeyGenerator(opts.clientIp(req));

  /** Takes a point; the 429 when the budget is spent. A limiter that fails protects nothing but refuses nobody. */
  async function take({ budget: b, key }: Charge): Promise<TooManyAttempts | undefined> {
    try {
      await b.limiter().consume(key);
      return undefined;
    } catch (e) {
      // Rejected with a RateLimiterRes when the budget is spent, with an Error when its store failed
      if (e instanceof Error) return undefined;
      abuseRefusals.inc({ limit: b.name });
      return new TooManyAttempts(secondsToWait((e as RateLimiterRes).msBeforeNext));
    }
  }

  async function giveBack(charges: Charge[]): Promise<void> {
    await Promise.all(charges.map(({ budget: b, key }) => b.limiter().reward(key).catch(() => {})));
  }

  async function attempt<T>(charges: Charge[], judge: () => Promise<T | undefined>): Promise<T | undefined> {
    const taken: Charge[] = [];
    for (const c of charges) {
      const refused = await take(c);
      if (refused) {
        // Not judged, so not a guess: the budgets already taken get their point back.
        await giveBack(taken);
        throw refused;
      }
      taken.push(c);
    }
    let refused = false;
    try {
      const result = await judge();
      refused = result === undefined;
      return result;
    } finally {
      // Right, or not judged (the judge threw): given back. Wrong: it stays counted.
      if (!refused) await giveBack(taken);
    }
  }

  return {
    signIn: (req, login, judge) =>
      attempt(
        [
          { budget: signInAddress, key: address(req) },
          { budget: signInLogin, key: loginKey(login) },
        ],
        judge,
      ),
    link: (req, judge) => attempt([{ budget: linkAddress, key: address(req) }], judge),
  };
}
