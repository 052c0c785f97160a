// The bench's processes: servers on CPU 1, the load generator (lib/load.mjs) on CPU 0 (taskset,
// when there are two cores), shared by run.mjs and profile.mjs.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeCpuSeconds, treeSyscalls } from './procstat.mjs';

const LIB = dirname(fileURLToPath(import.meta.url));
export const cpus = Number(execFileSync('nproc').toString().trim());
export const pin = (core, cmd, args) => (cpus >= 2 ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);

/** Every server started, to be killed when the bench ends. */
export const children = [];

/** Starts a server on CPU 1; resolves once its output matches `ready`. */
export function startServer(name, cmd, args, env = {}, ready = /ready|gatehouse listening/) {
  const [c, a] = pin(1, cmd, args);
  const child = spawn(c, a, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d;
      if (ready.test(out)) {
        child.stdout.removeListener('data', onData);
        child.stdout.resume(); // keep draining (access logs) so the server never blocks on a full pipe
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`${name} exited ${code}: ${out.slice(-2000)}`)));
  });
}

let jobs = 0;
/** Runs one autocannon job on CPU 0 (the job goes through a file: token lists are long). */
export function load(job) {
  const file = join(tmpdir(), `gatehouse-bench-job-${process.pid}-${jobs++}.json`);
  writeFileSync(file, JSON.stringify(job));
  const [c, a] = pin(0, process.execPath, [join(LIB, 'load.mjs'), `@${file}`]);
  return new Promise((resolve, reject) => {
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`))));
  });
}

/**
 * `load(job)` against the server `pid`, with the CPU seconds that server (and its workers) spent per
 * 10,000 requests. A row served by several processes (an edge and the Gatehouse deciding for it)
 * gives `{ name: pid, ... }`: `cpuPer10k` is their sum and `cpuPer10kBy` each one's.
 */
export async function loadMeasured(pid, job) {
  const pids = typeof pid === 'object' ? Object.entries(pid) : [['server', pid]];
  const cpu0 = pids.map(([, p]) => treeCpuSeconds(p));
  const calls0 = pids.map(([, p]) => treeSyscalls(p));
  const res = await load(job);
  const requests = Math.max(1, res.requests);
  const by = Object.fromEntries(pids.map(([name, p], i) => [name, ((treeCpuSeconds(p) - cpu0[i]) / requests) * 10_000]));
  const calls = pids.reduce((a, [, p], i) => a + treeSyscalls(p) - calls0[i], 0);
  return {
    ...res,
    cpuPer10k: Object.values(by).reduce((a, b) => a + b, 0),
    ...(typeof pid === 'object' ? { cpuPer10kBy: by } : {}),
    syscallsPerRequest: calls / requests,
  };
}

/**
 * The REJECT flood: malformed strings, and guesses shaped like tokens whose checksum is wrong (what
 * guessing produces: 1 in 62^6 random guesses has a valid checksum). Neither may cost a store query:
 * the shape check refuses both without I/O. `mintToken` is Gatehouse's (dist/tokens/token-format.js).
 */
export function rejectFlood(mintToken, size = 1000) {
  const wrongChecksum = (t) => t.slice(0, -1) + (t.at(-1) === 'A' ? 'B' : 'A');
  return Array.from({ length: size }, (_, i) => (i % 2 ? wrongChecksum(mintToken('user')) : `garbage-${i}`));
}
