// `node test/bench/profile.mjs`: a CPU profile of the gateway's L1-hit path under load, summarized.
// PROFILE_L2=1: the L2 path instead (Redis, an L1 too small for 500 tokens, as run.mjs's L2 row).
// PROFILE_BODY_BYTES=1048576: POST that many bytes to /Api/v6/envelope/send instead of a small GET.
// PROFILE_RESTRICTED=1: with the restricted token (lib/gateway-fixture.mjs BENCH_RESTRICTIONS:
// permissions, networks, version ceiling) instead of the unrestricted one, as run.mjs's L1 RESTRICTED row.
// PROFILE_FORWARD_AUTH=1: forward-auth mode's decision instead (asked directly, Envoy's way:
// GET /_gatehouse/auth/Api/v6/envelope/123, as the edge on loopback): what nginx + Gatehouse
// costs on Gatehouse's side, without nginx.
// Starts the DIRECT upstream and one gateway (SQLite store, one token, in-process cache) with
// --cpu-prof, loads it for PROFILE_SECONDS with autocannon, stops it, and prints the functions
// with the most self time (the .cpuprofile is kept for a flame graph in Chrome DevTools).
// Servers on CPU 1, load on CPU 0, as in run.mjs.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FORWARD_AUTH_CONFIG } from './lib/forward-auth.mjs';
import { l2Config, seedStore, startGateway } from './lib/gateway-fixture.mjs';
import { load, loadMeasured, rejectFlood, startServer } from './lib/processes.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PROFILE = process.env.PROFILE !== '0';
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-profile-'));
const L2 = process.env.PROFILE_L2 === '1';
const DECISION = process.env.PROFILE_FORWARD_AUTH === '1';
const RESTRICTED = process.env.PROFILE_RESTRICTED === '1';
const { dbUrl, hot, restricted, many: l2Tokens } = await seedStore(ROOT, dir, L2 ? 500 : 0);
const token = RESTRICTED ? restricted : hot;

const directPort = 18990 + Math.floor(Math.random() * 5);
const direct = await startServer('direct', process.execPath, [join(HERE, 'lib/direct.mjs'), String(directPort)]);
const gwPort = directPort + 10;
// PROFILE_CONFIG: extra config (JSON) to compare a change, e.g. '{"log":{"access":false}}'
const gateway = await startGateway({
  name: 'gateway', build: join(ROOT, 'dist'), dir, port: gwPort, dbUrl, upstream: `http://127.0.0.1:${directPort}`,
  config: { ...(L2 ? l2Config(`profile-${process.pid}:`) : {}), ...(DECISION ? FORWARD_AUTH_CONFIG : {}), ...JSON.parse(process.env.PROFILE_CONFIG ?? '{}') },
  nodeArgs: PROFILE ? ['--cpu-prof', '--cpu-prof-dir', dir] : [],
});
const bodyBytes = Number(process.env.PROFILE_BODY_BYTES ?? 0);
const path = bodyBytes ? '/Api/v6/envelope/send' : '/Api/v6/envelope/123';
const url = `http://127.0.0.1:${gwPort}${DECISION ? FORWARD_AUTH_CONFIG.forwardAuth.path : ''}${path}`;
// PROFILE_REJECT=1: the REJECT path instead (a malformed token on every request)
// (the same flood as run.mjs, lib/processes.mjs `rejectFlood`)
let tokens = L2 ? l2Tokens : undefined;
if (process.env.PROFILE_REJECT === '1') {
  const { mintToken } = await import(join(ROOT, 'dist/tokens/token-format.js'));
  tokens = rejectFlood(mintToken);
}
const directRps = (await load({ url: `http://127.0.0.1:${directPort}${path}`, connections: CONNECTIONS, seconds: 3, bodyBytes })).rps;
await load({ url, connections: CONNECTIONS, seconds: 2, token, tokens, bodyBytes }); // warm-up
const result = await loadMeasured(gateway.pid, { url, connections: CONNECTIONS, seconds: SECONDS, token, tokens, bodyBytes });
// CPU per request: steadier than requests/s on a noisy machine (it does not depend on how much of
// the core the gateway got)
const cpuPerRequestUs = result.cpuPer10k * 100;
const exited = new Promise((r) => gateway.on('exit', r));
gateway.kill('SIGTERM');
await exited;
direct.kill();
console.log(`${process.env.PROFILE_REJECT === '1' ? 'REJECT' : L2 ? 'L2' : 'L1'}${RESTRICTED ? ' RESTRICTED' : ''}${DECISION ? ' DECISION' : ''} ${bodyBytes ? `POST ${bodyBytes} B` : 'small GET'}: ${Math.round(result.rps)} req/s (${(result.rps / directRps).toFixed(3)}× DIRECT ${Math.round(directRps)}), p50 ${result.p50} ms, p99 ${result.p99} ms, gateway CPU ${cpuPerRequestUs.toFixed(0)} µs/request, ${result.syscallsPerRequest.toFixed(2)} read/write syscalls/request, non-2xx ${result.non2xx}`);
if (!PROFILE) process.exit(0);

// Self time per function (name + file:line), from the sampled profile
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const counts = new Map();
for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
let total = 0;
for (const [id, n] of counts) {
  const { functionName, url: u, lineNumber } = byId.get(id).callFrame;
  const key = `${functionName || '(anonymous)'} ${u.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/.*?\/dist\//, 'dist/')}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + n);
  total += n;
}
const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, n]) => a + n, 0);
console.log(`samples ${total}, idle ${(100 * idle / total).toFixed(1)}%; top self time (% of busy):`);
for (const [k, n] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 40))) {
  console.log(`${(100 * n / (total - idle)).toFixed(1).padStart(5)}%  ${k}`);
}
console.log(`profile: ${join(dir, file)}`);
