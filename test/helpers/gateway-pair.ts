// Two gateway instances against one store and one Redis deployment (standalone, Sentinel or
// Cluster), for the fleet fault suites: instance `a` writes through the test's store connection,
// instance `b` through a second connection of its own (as a second process would), so a write
// committed through one reaches the other only through Redis or the store's change feed. Plus
// what those suites measure with: status calls, load with failures recorded, revocation delays,
// and how loaded the machine was meanwhile (a bound on a delay allows for that, measured).
// Waits end as soon as their condition holds; their limits are generous, for a machine loaded by
// the whole test run.
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Store } from '../../src/store/index.js';
import { TEST_ACTOR, type SeededUser } from './fixtures.js';
import { startTestGateway, type TestGateway } from './test-gateway.js';
import type { TestStore } from './test-store.js';

export const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Instance {
  name: 'a' | 'b';
  gw: TestGateway;
  url: string;
  /** The store connection this instance's writes go through (its commits are announced to it). */
  store: Store;
}

export interface GatewayPair {
  a: Instance;
  b: Instance;
  both: [Instance, Instance];
  close(): Promise<void>;
}

export interface PairOptions {
  /** redis.* over the defaults below (mode, nodes, keyPrefix…). */
  redis: Record<string, unknown>;
  /** store.changeFeedPollMs: what bounds a revocation whose Redis message was lost. */
  pollMs: number;
  abuse?: Record<string, unknown>;
}

export async function startGatewayPair(ts: TestStore, opts: PairOptions): Promise<GatewayPair> {
  const overrides = {
    store: { url: ts.url, changeFeedPollMs: opts.pollMs },
    // L1 holds for a minute: a refusal seen sooner than that came from an eviction, not a TTL.
    cache: { l1MaxEntries: 10_000, l1TtlMs: 60_000, negativeTtlMs: 100, staleMaxMs: 0 },
    redis: { commandTimeoutMs: 100, probeIntervalMs: 100, tombstoneMs: 300, ...opts.redis },
    ...(opts.abuse ? { abuse: opts.abuse } : {}),
  };
  const bStore = ts.reopen();
  const instances: Instance[] = [];
  try {
    for (const [name, store] of [['a', ts.store], ['b', bStore]] as const) {
      const gw = await startTestGateway({ store, storeUrl: ts.url, overrides });
      instances.push({ name, gw, url: gw.url, store });
    }
  } catch (e) {
    await Promise.all(instances.map((i) => i.gw.close()));
    await bStore.close();
    throw e;
  }
  const [a, b] = instances as [Instance, Instance];
  return {
    a,
    b,
    both: [a, b],
    async close() {
      await Promise.all([a.gw.close(), b.gw.close()]);
      await bStore.close();
    },
  };
}

/** The status of one REST call with `headers` (0: no answer at all). */
export function call(base: string, headers: Record<string, string>, path = '/Api/v6/envelope/1'): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(`${base}${path}`, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', () => resolve(0));
  });
}

/** The status of a v6 call with a user API token. */
export const status = (base: string, token: string) => call(base, { apiToken: token });

export async function readyz(base: string): Promise<{ redis: string; degraded: boolean }> {
  return (await fetch(`${base}/readyz`)).json() as Promise<{ redis: string; degraded: boolean }>;
}

/** Calls `call` until it answers `want`, at most `ms`; resolves with how long that took. */
export async function untilStatus(call: () => Promise<number>, want: number, ms = 20_000): Promise<number> {
  const started = performance.now();
  const end = Date.now() + ms;
  let last = -1;
  while ((last = await call()) !== want) {
    if (Date.now() > end) throw new Error(`still ${last} after ${ms} ms, not ${want}`);
  }
  return performance.now() - started;
}

export async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export function summary(delays: number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...delays].sort((x, y) => x - y);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1)! };
}

export const fmt = (d: { n: number; p50: number; p99: number; max: number }) =>
  `n ${d.n}: p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms, max ${d.max.toFixed(1)} ms`;

/**
 * `n` revocations of `user`'s token, alternating the writer: disabled through one instance's store,
 * the delay until the *other* instance refuses it is measured from the commit. Each round starts
 * with the enabled token in both instances' L1 and ends with it re-enabled and accepted by both.
 * A revocation not refused within 20 s fails: far inside the minute a quiet pair's change feed
 * takes, so on such a pair only the Redis channel can have carried it.
 */
export async function measureRevocations(pair: GatewayPair, user: SeededUser, n: number): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const [writer, other] = i % 2 === 0 ? [pair.a, pair.b] : [pair.b, pair.a];
    await untilStatus(() => status(writer.url, user.token), 200);
    await untilStatus(() => status(other.url, user.token), 200);
    await writer.store.admin.setApiTokenEnabled(TEST_ACTOR, user.tokenId, false);
    const committed = performance.now();
    await untilStatus(() => status(other.url, user.token), 401);
    delays.push(performance.now() - committed);
    if ((await status(writer.url, user.token)) !== 401) throw new Error('the writing instance still accepts the token it disabled');
    await writer.store.admin.setApiTokenEnabled(TEST_ACTOR, user.tokenId, true);
  }
  await untilStatus(() => status(pair.a.url, user.token), 200);
  await untilStatus(() => status(pair.b.url, user.token), 200);
  return delays;
}

/** What the machine's load added to a delay while something ran, measured (see `gaugeLoad`). */
export interface Slack {
  /** The longest event-loop stall of this process, where the gateways, their followers and the callers run. */
  loopMs: number;
  /** The longest change-feed read (the followers' own query) on the store. */
  feedMs: number;
  /** What a bound allows on top of its figure: a stall, and two feed reads (one already running when the write committed, the one that sees it). */
  ms: number;
}

export const fmtSlack = (s: Slack) => `${s.ms.toFixed(0)} ms (event loop stalled up to ${s.loopMs.toFixed(0)} ms, change-feed read up to ${s.feedMs.toFixed(0)} ms)`;

/**
 * Measures how loaded the machine is while something runs, so that a bound on a delay can allow
 * for a slow moment without being loosened for good: on an idle machine the slack is a few
 * milliseconds and the bound is as tight as its figure. A delay a defect causes (a stalled
 * follower, a lost message) shows in neither measure.
 */
export function gaugeLoad(store: Store): { stop(): Promise<Slack> } {
  // (stop() may be called more than once: each answers the same measure)
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let feedMs = 0;
  let running = true;
  const sampler = (async () => {
    let cursor = await store.gateway.latestChangeId().catch(() => 0);
    while (running) {
      const started = performance.now();
      try {
        const changes = await store.gateway.changesSince(cursor);
        if (changes.length) cursor = changes.at(-1)!.id;
      } catch {
        // the store unreadable: the follower fails alike, and what it bounds fails on its own
      }
      feedMs = Math.max(feedMs, performance.now() - started);
      await sleep(100);
    }
  })();
  let stopped: Promise<Slack> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        running = false;
        await sampler;
        loop.disable();
        const loopMs = loop.max / 1e6;
        return { loopMs, feedMs, ms: loopMs + 2 * feedMs };
      })()),
  };
}

/** `measure` run under `gaugeLoad`: its result and the slack measured meanwhile. */
export async function gauged<T>(store: Store, measure: () => Promise<T>): Promise<{ value: T; slack: Slack }> {
  const gauge = gaugeLoad(store);
  try {
    const value = await measure();
    return { value, slack: await gauge.stop() };
  } finally {
    await gauge.stop();
  }
}

export interface Load {
  /** Every answer to a valid caller that was not 200, with when it came. */
  failures: { status: number; at: number; instance: string }[];
  ok: number;
  /** Every answer to the watched (revoked) caller, with when the call was sent. */
  watched: { sentAt: number; status: number; instance: string }[];
  stop(): Promise<void>;
}

/**
 * Valid callers (`workers` loops over `valid`, alternating instances) and one watched caller per
 * instance calling with `watchedToken`, until stopped.
 */
export function startLoad(pair: GatewayPair, valid: SeededUser[], watchedToken: string, workers = 4): Load {
  let running = true;
  const load: Load = { failures: [], ok: 0, watched: [], stop: async () => {} };
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = w; running; i++) {
      const inst = pair.both[i % 2]!;
      const s = await status(inst.url, valid[i % valid.length]!.token);
      if (s === 200) load.ok++;
      else load.failures.push({ status: s, at: Date.now(), instance: inst.name });
    }
  });
  const watchers = pair.both.map(async (inst) => {
    while (running) {
      const sentAt = Date.now();
      const s = await status(inst.url, watchedToken);
      load.watched.push({ sentAt, status: s, instance: inst.name });
      await sleep(2);
    }
  });
  load.stop = async () => {
    running = false;
    await Promise.all([...loops, ...watchers]);
  };
  return load;
}

/**
 * Resolves with the next message on `channel` that `inst`'s Redis subscriber receives and `match`
 * accepts — by then the instance's own listeners, registered before this one, have handled it.
 * Call it before what causes the message.
 */
export function nextMessage(inst: Instance, channel: string, match: (message: string) => boolean = () => true, ms = 30_000): Promise<string> {
  const subscriber = inst.gw.gateway.cache.subscriber;
  if (!subscriber) throw new Error(`instance ${inst.name} has no Redis subscriber`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscriber.off('message', listener);
      reject(new Error(`no message on ${channel} reached instance ${inst.name} within ${ms} ms`));
    }, ms);
    const listener = (ch: string, message: string) => {
      if (ch !== channel || !match(message)) return;
      clearTimeout(timer);
      subscriber.off('message', listener);
      resolve(message);
    };
    subscriber.on('message', listener);
  });
}

/** The log lines of an instance containing `what`. */
export const logLines = (inst: Instance, what: string) => inst.gw.logs.filter((l) => l.includes(what));

/** The cache tier the instance's last access line for `tokenId` reports. */
export function lastTier(inst: Instance, tokenId: string): string | undefined {
  const line = inst.gw.logs.filter((l) => l.includes('"message":"access"') && l.includes(`"tokenId":"${tokenId}"`)).at(-1);
  return line ? (JSON.parse(line) as { cacheTier?: string }).cacheTier : undefined;
}

export interface FaultRun {
  load: Load;
  /** When the victim's token was disabled (through instance a, during the fault). */
  revokedAt: number;
  /** When `recover` resolved: Redis serves again. */
  backAt: number;
  /** Valid calls answered 200 while the fault lasted (from `fault` resolving to `recover` resolving). */
  okDuring: number;
  /** From `backAt` until every instance reports Redis up again on /readyz. */
  reconnectMs: number;
  /** Revocations measured across the instances of `quiet` once Redis is back: the channel alone carries them. */
  after: ReturnType<typeof summary>;
  /** The machine's load over the whole run (`gaugeLoad`). */
  slack: Slack;
}

/**
 * A Redis fault under load: valid callers on both instances of `pair` and the victim's token
 * watched on both; `fault()` brings the fault about, the victim's token is disabled through
 * instance a while it lasts, `recover()` ends it. Then every instance must be back on Redis
 * (/readyz) and subscribed (`subscribed`) by itself, and revocations must cross between the
 * instances of `quiet` again — a pair that polls the change feed so rarely that only the Redis
 * channel can carry them.
 */
export async function faultUnderLoad(
  pair: GatewayPair,
  opts: {
    valid: SeededUser[];
    victim: SeededUser;
    quiet: GatewayPair;
    /** A token used only to measure revocations on `quiet` once Redis is back. */
    probe: SeededUser;
    fault(): Promise<void>;
    recover(): Promise<void>;
    subscribed(): Promise<boolean>;
  },
): Promise<FaultRun> {
  const gauge = gaugeLoad(pair.b.store);
  const load = startLoad(pair, opts.valid, opts.victim.token);
  try {
    await until('the load running', () => load.ok >= 20);
    await opts.fault();
    const okAtFault = load.ok;
    await pair.a.store.admin.setApiTokenEnabled(TEST_ACTOR, opts.victim.tokenId, false);
    const revokedAt = Date.now();
    await opts.recover();
    const backAt = Date.now();
    const okDuring = load.ok - okAtFault;
    const instances = [...pair.both, ...opts.quiet.both];
    await until('every instance back on Redis', async () => (await Promise.all(instances.map((i) => readyz(i.url)))).every((r) => r.redis === 'up'), 60_000).catch(explained(instances));
    const reconnectMs = Date.now() - backAt;
    await until('every instance subscribed again', opts.subscribed, 60_000).catch(explained(instances));
    const after = summary(await measureRevocations(opts.quiet, opts.probe, 6));
    await sleep(200);
    return { load, revokedAt, backAt, okDuring, reconnectMs, after, slack: await gauge.stop() };
  } finally {
    await load.stop();
    await gauge.stop();
  }
}

/** A failed wait's error, with what each instance says of Redis (its /readyz and its last Redis log line). */
const explained = (instances: Instance[]) => async (e: Error) => {
  const states = await Promise.all(
    instances.map(async (i) => `${i.name} ${JSON.stringify(await readyz(i.url).catch((x: Error) => x.message))} ${logLines(i, 'redis').at(-1) ?? ''}`),
  );
  throw new Error(`${e.message}\n${states.join('\n')}`);
};

/** The victim's calls sent once its revocation was `boundMs` old and still answered 200 (there must be none). */
export function acceptedAfter(run: FaultRun, boundMs: number) {
  return run.load.watched.filter((r) => r.sentAt > run.revokedAt + boundMs && r.status === 200);
}
