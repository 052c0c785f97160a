// observability/: /healthz (the process answers) and /readyz (this instance should get traffic:
// not draining, store reachable, migrations applied). Both cheap: the store probe is shared by
// concurrent callers and remembered for a second.
import { Router } from 'express';

const PROBE_TTL_MS = 1000;
const PROBE_TIMEOUT_MS = 2000;

export interface Readiness {
  draining: boolean;
}

/** What readiness asks of the store (the Store has it; named here so observability imports no floor above it). */
export interface StoreProbe {
  ping(): Promise<void>;
  /** Names of the migrations not yet applied. */
  pendingMigrations(): Promise<readonly string[]>;
}

export function healthRoutes(store: StoreProbe, readiness: Readiness, redisState: () => string = () => 'disabled'): Router {
  let last: { at: number; result: Promise<Record<string, unknown>> } | undefined;
  const probe = async (): Promise<Record<string, unknown>> => {
    try {
      await Promise.race([
        store.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS).unref()),
      ]);
      const pending = await store.pendingMigrations();
      return pending.length === 0 ? { store: 'ok', migrations: 'applied' } : { store: 'ok', migrations: 'pending', ready: false };
    } catch {
      return { store: 'unreachable', ready: false };
    }
  };

  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (!last || performance.now() - last.at > PROBE_TTL_MS) last = { at: performance.now(), result: probe() };
    const { ready, ...checks } = await last.result;
    // Redis down is a degradation (L2 skipped), not unreadiness: the store still answers.
    const redis = redisState();
    const degraded = redis === 'down' || redis === 'connecting' || checks.store !== 'ok';
    const ok = ready !== false && !readiness.draining;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'unready', draining: readiness.draining, ...checks, redis, degraded });
  });
  return router;
}
