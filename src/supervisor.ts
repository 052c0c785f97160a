// The supervisor of a multi-worker gateway (`server.workers` > 1): the primary process migrates
// the store once, forks the workers — each a whole gateway (src/main.ts) sharing the listening
// port through node:cluster — restarts a worker that dies, and on SIGTERM/SIGINT asks every
// worker to drain and waits for them. It serves no request itself.
// Workers share nothing in memory: each has its own L1 and follows the change feed (and Redis's
// eviction channel when configured), exactly as separate instances of a fleet do (README).
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config/schema.js';
import type { Logger } from './observability/logger.js';
import { openStore } from './store/index.js';

/** Set on each worker: its index, so exactly one (0) does the first-run work. */
export const WORKER_INDEX_ENV = 'GATEHOUSE_WORKER_INDEX';
const RESTART_DELAY_MS = 1000;

export function workerIndex(): number | undefined {
  const v = process.env[WORKER_INDEX_ENV];
  return cluster.isWorker && v !== undefined ? Number(v) : undefined;
}

export async function superviseWorkers(config: Config, count: number, logger: Logger): Promise<void> {
  // Migrations run here, once, so workers starting together never race over them
  const store = openStore(config.store.url);
  const applied = await store.migrate();
  await store.close();
  if (applied.length) logger.info('migrations applied', { migrations: applied });

  let stopping = false;
  const workers = new Map<number, Worker>();
  const fork = (index: number) => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    workers.set(index, worker);
    worker.once('exit', (code, signal) => {
      workers.delete(index);
      if (stopping) return;
      logger.error('worker exited; restarting it', { worker: index, code, signal, restartInMs: RESTART_DELAY_MS });
      setTimeout(() => !stopping && fork(index), RESTART_DELAY_MS);
    });
  };
  for (let i = 0; i < count; i++) fork(i);
  logger.info('supervising workers', { workers: count });

  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const exited = [...workers.values()].map((w) => new Promise((resolve) => (w.isDead() ? resolve(undefined) : w.once('exit', resolve))));
    // A terminal's Ctrl-C already reached the workers (same process group); SIGTERM from a supervisor did not
    for (const w of workers.values()) if (!w.isDead()) w.process.kill(signal);
    await Promise.all(exited);
    logger.info('stopped', { workers: count });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
