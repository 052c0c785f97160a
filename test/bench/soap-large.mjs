// Benchmark (not part of `npm test`): a large SOAP envelope (default 50 MB of base64 in
// SendEnvelope_v1) through the gateway vs. straight to the upstream, side by side in one run.
// Reports the throughput ratio (target ≥ 0.8) and the gateway's peak RSS growth over its idle,
// warmed-up RSS (target < 32 MB whatever the size). The gateway and the sample upstream each run
// as a child process (`node dist/...`); the gateway's RSS is sampled from /proc every 10 ms.
// A bare node:http pipe proxy runs beside them as the reference floor for any Node hop.
// Usage: npm run build && node test/bench/soap-large.mjs [sizeMB ...] [--runs N]
// BENCH_PIN=1 runs the servers on CPU 1 (taskset; run this script itself on CPU 0), as run.mjs does.
// --json prints one JSON line of results after the table (run.mjs reads it).
// BENCH_GATEWAY_NODE_OPTIONS passes V8/Node flags to the gateway child (e.g. --max-semi-space-size=1).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5;
const JSON_OUT = args.includes('--json');
if (JSON_OUT) args.splice(args.indexOf('--json'), 1);
const PIN = process.env.BENCH_PIN === '1';
// A server process, on CPU 1 when pinned
const server = (cmd, argv, opts) => (PIN ? spawn('taskset', ['-c', '1', cmd, ...argv], opts) : spawn(cmd, argv, opts));
const SIZES_MB = args.length ? args.map(Number) : [50];
const TNS = 'http://www.eSignAnyWhere.com/';
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';

const { openStore } = await import(join(root, 'dist/store/index.js'));
const { identitySigner } = await import(join(root, 'dist/proxy/identity.js'));

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} did not come up`);
}

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Streams one SOAP 1.1 SendEnvelope_v1 of about `mb` MB; resolves with bytes and seconds. */
function post(url, mb, headers, token) {
  const prefix = Buffer.from(
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11}"><soap:Header>` +
      `<AuthorizationHeader xmlns="${TNS}"><apiToken>${token}</apiToken></AuthorizationHeader></soap:Header>` +
      `<soap:Body><SendEnvelope_v1 xmlns="${TNS}"><envelopeXml>`,
  );
  const suffix = Buffer.from('</envelopeXml></SendEnvelope_v1></soap:Body></soap:Envelope>');
  const block = Buffer.from(randomBytes(48 * 1024).toString('base64')); // 64 KiB of base64
  const blocks = Math.ceil((mb * 1024 * 1024) / block.length);
  const length = prefix.length + blocks * block.length + suffix.length;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${TNS}SendEnvelope_v1"`, 'Content-Length': length, ...headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
        const received = Number(/&lt;receivedBytes&gt;(\d+)&lt;/.exec(body)?.[1]);
        resolve({ bytes: length, received, seconds });
      });
    });
    req.on('error', reject);
    req.write(prefix);
    let i = 0;
    const pump = () => {
      while (i < blocks) {
        i++;
        if (!req.write(block)) return req.once('drain', pump);
      }
      req.end(suffix);
    };
    pump();
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const best = (xs, ref) => `${(median(xs) / median(ref)).toFixed(2)} (${(Math.max(...xs) / Math.max(...ref)).toFixed(2)})`;

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
const storeUrl = `sqlite:${join(dir, 'bench.db')}`;
const secret = randomBytes(32).toString('base64url');
const children = [];
try {
  // A user with an enabled token, through the real write path
  const store = openStore(storeUrl);
  await store.migrate();
  const who = { actor: 'bench', source: 'bench' };
  await store.admin.createOrganization(who, 'Bench');
  await store.admin.createRole(who, 'Bench', 'Integrators', ['API'], []);
  await store.admin.createUser(who, 'Bench', 'bench@example.test', ['Integrators']);
  const { secret: token } = await store.admin.createApiToken(who, 'bench@example.test', 'bench', { enabled: true });
  await store.close();

  // The upstream and the gateway, each its own process
  const upPort = await freePort();
  const gwPort = await freePort();
  const upstreamUrl = `http://127.0.0.1:${upPort}`;
  const gatewayUrl = `http://127.0.0.1:${gwPort}`;
  const upstream = server(
    process.execPath,
    ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(root, 'dist/sample-upstream/server.js'))}); await m.startSampleUpstream({ identitySecret: ${JSON.stringify(secret)}, issuer: 'gatehouse', audience: 'gatehouse-upstream', port: ${upPort} });`],
    { stdio: 'inherit' },
  );
  children.push(upstream);
  const gateway = server(process.execPath, [join(root, 'dist/main.js')], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '', NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(gwPort), DATABASE_URL: storeUrl, UPSTREAM_URL: upstreamUrl, IDENTITY_SECRET: secret, LOG_LEVEL: 'warn', METRICS_LISTEN: '' },
    stdio: 'inherit',
  });
  children.push(gateway);
  // Reference: the leanest node:http pipe proxy (no parsing, no auth), the floor for any Node hop
  const barePort = await freePort();
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const bare = server(
    process.execPath,
    ['-e', `const http = require('node:http'); const agent = new http.Agent({ keepAlive: true });
      http.createServer((req, res) => {
        const up = http.request({ agent, host: '127.0.0.1', port: ${upPort}, method: req.method, path: req.url, headers: req.headers }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
        req.pipe(up);
      }).listen(${barePort}, '127.0.0.1');`],
    { stdio: 'inherit' },
  );
  children.push(bare);
  await waitFor(`${upstreamUrl}/Api/v6/version`);
  await waitFor(`${bareUrl}/Api/v6/version`);
  await waitFor(`${gatewayUrl}/healthz`);

  const sign = identitySigner({ secret, ttlSeconds: 3600, issuer: 'gatehouse', audience: 'gatehouse-upstream' });
  const identity = sign({ authKind: 'api-token', tokenId: 'bench', userId: 'bench', organizationId: 'bench', loginName: 'bench@example.test' });
  const direct = (mb) => post(`${upstreamUrl}/api.asmx`, mb, { 'X-Gatehouse-Identity': identity }, token);
  const viaGateway = (mb) => post(`${gatewayUrl}/api.asmx`, mb, {}, token);
  const viaBare = (mb) => post(`${bareUrl}/api.asmx`, mb, { 'X-Gatehouse-Identity': identity }, token);

  // Warm up both paths (JIT, keep-alive sockets, token cache), then take the idle RSS
  for (let i = 0; i < 3; i++) {
    await direct(1);
    await viaGateway(1);
    await viaBare(1);
  }
  await new Promise((r) => setTimeout(r, 500));
  const baseKb = rssKb(gateway.pid);
  const bareBaseKb = rssKb(bare.pid);

  console.log(`SOAP large-envelope benchmark: ${RUNS} runs per path, alternating; gateway idle RSS ${(baseKb / 1024).toFixed(1)} MB`);
  console.log('Medians of the runs; "best" = ratio of the fastest runs (less sensitive to other load on the machine).');
  console.log('size MB | direct MB/s | gateway MB/s | ratio (best) | bare pipe proxy MB/s | ratio (best) | peak RSS growth MB: gateway | bare proxy');
  const results = [];
  for (const mb of SIZES_MB) {
    const d = [];
    const g = [];
    const p = [];
    let peakKb = baseKb;
    let barePeakKb = bareBaseKb;
    for (let r = 0; r < RUNS; r++) {
      const a = await direct(mb);
      d.push(a.bytes / 1048576 / a.seconds);
      const sampler = setInterval(() => (peakKb = Math.max(peakKb, rssKb(gateway.pid))), 10);
      const b = await viaGateway(mb);
      clearInterval(sampler);
      peakKb = Math.max(peakKb, rssKb(gateway.pid));
      g.push(b.bytes / 1048576 / b.seconds);
      const bareSampler = setInterval(() => (barePeakKb = Math.max(barePeakKb, rssKb(bare.pid))), 10);
      const c = await viaBare(mb);
      clearInterval(bareSampler);
      p.push(c.bytes / 1048576 / c.seconds);
      if (b.received < b.bytes - 200) throw new Error(`upstream received ${b.received} of ${b.bytes} bytes`);
    }
    const dm = median(d);
    const gm = median(g);
    const pm = median(p);
    results.push({ mb, directMBps: dm, gatewayMBps: gm, ratio: gm / dm, bestRatio: Math.max(...g) / Math.max(...d), bareMBps: pm, bareRatio: pm / dm, rssGrowthMB: (peakKb - baseKb) / 1024, bareRssGrowthMB: (barePeakKb - bareBaseKb) / 1024, idleRssMB: baseKb / 1024 });
    console.log(
      `${String(mb).padStart(7)} | ${dm.toFixed(0).padStart(11)} | ${gm.toFixed(0).padStart(12)} | ${best(g, d).padStart(12)} | ` +
        `${pm.toFixed(0).padStart(20)} | ${best(p, d).padStart(12)} | ${((peakKb - baseKb) / 1024).toFixed(1).padStart(27)} | ${((barePeakKb - bareBaseKb) / 1024).toFixed(1)}`,
    );
  }
  if (JSON_OUT) console.log(JSON.stringify({ pinned: PIN, runs: RUNS, results }));
} finally {
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
