// `server.workers`: one port served by several gateway processes (node:cluster) under a
// supervisor that restarts a dead worker and drains them all on SIGTERM. Real processes, the
// test's store (SQLite file or PostgreSQL schema), the sample upstream.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSampleUpstream } from '../../src/sample-upstream/server.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/processes.js';
import { useGateway } from '../helpers/use-gateway.js';

// The store and alice; the gateway is a supervisor process and its workers.
const { ts, users: { alice } } = useGateway({ gateway: false, users: { alice: {} } });
let sample: Awaited<ReturnType<typeof startSampleUpstream>>;
let gw: GatewayProcess;

/** One request on a new connection (cluster hands out connections, not requests). */
function status(token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${gw.url}/Api/v6/envelope/1`, { agent: false, headers: { apiToken: token } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
  });
}

const lines = () => gw.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
const listeningPids = () => lines().filter((l) => l.message === 'gatehouse listening').map((l) => l.pid as number);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${gw.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const identitySecret = randomBytes(32).toString('base64url');
  sample = await startSampleUpstream({ identitySecret, issuer: 'gatehouse', audience: 'gatehouse-upstream' });
  const keyFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-workers-')), 'oauth.pem');
  writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  gw = await startGatewayProcess({
    DATABASE_URL: ts.url,
    UPSTREAM_URL: sample.url,
    IDENTITY_SECRET: identitySecret,
    OAUTH_SIGNING_KEY_FILE: keyFile,
    WORKERS: '2',
    CHANGE_FEED_POLL_MS: '100',
  });
  await until(() => listeningPids().length === 2);
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await sample?.close();
});

describe('a gateway with two workers', () => {
  it('serves one port from two processes, neither of them the supervisor', async () => {
    const pids = listeningPids();
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(gw.proc.pid);
    const codes = await Promise.all(Array.from({ length: 40 }, () => status(alice.token)));
    expect(codes.every((c) => c === 200)).toBe(true);
    // Access lines are flushed in batches: wait for all 40, then see both workers in them
    await until(() => lines().filter((l) => l.message === 'access' && l.status === 200).length >= 40);
    const served = new Set(lines().filter((l) => l.message === 'access').map((l) => l.pid));
    expect([...served].sort()).toEqual([...pids].sort());
  });

  it('refuses a disabled token on every worker (each follows the change feed)', async () => {
    await ts.store.admin.setApiTokenEnabled(TEST_ACTOR, alice.tokenId, false);
    await new Promise((r) => setTimeout(r, 500));
    const codes = await Promise.all(Array.from({ length: 20 }, () => status(alice.token)));
    expect(codes.every((c) => c === 401)).toBe(true);
    await ts.store.admin.setApiTokenEnabled(TEST_ACTOR, alice.tokenId, true);
    await new Promise((r) => setTimeout(r, 500));
  });

  it('replaces a worker that dies, and keeps serving', async () => {
    const [victim, survivor] = listeningPids();
    process.kill(victim!, 'SIGKILL');
    await until(() => lines().some((l) => l.message === 'worker exited; restarting it'));
    await until(() => listeningPids().length === 3);
    const replacement = listeningPids()[2]!;
    expect(alive(replacement)).toBe(true);
    expect(alive(survivor!)).toBe(true);
    const codes = await Promise.all(Array.from({ length: 20 }, () => status(alice.token)));
    expect(codes.every((c) => c === 200)).toBe(true);
  });

  it('drains every worker on SIGTERM and exits 0', async () => {
    const workers = listeningPids().filter(alive);
    expect(workers).toHaveLength(2);
    const exited = new Promise<number | null>((r) => gw.proc.once('exit', (code) => r(code)));
    gw.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of workers) expect(alive(pid)).toBe(false);
    expect(lines().filter((l) => l.message === 'stopped').length).toBeGreaterThanOrEqual(3);
  });
});
