// The load generator: autocannon, run in its own process pinned to CPU 0 by run.mjs.
// Reads one JSON job from argv, prints one JSON result.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

// The job is JSON in argv, or `@file` when it is too large for a command line (token lists).
const arg = process.argv[2];
const job = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg);
const body = job.bodyBytes ? Buffer.alloc(job.bodyBytes, 97) : undefined;
const tokens = job.tokens ?? [job.token];
let i = 0;
const result = await autocannon({
  url: job.url,
  connections: job.connections,
  duration: job.seconds,
  pipelining: 1,
  method: body ? 'POST' : 'GET',
  body,
  headers: body ? { 'content-type': 'application/octet-stream' } : {},
  // Round-robin over tokens: one token keeps hitting L1, many overflow it.
  requests: [{ setupRequest: (req) => {
    const t = tokens[i++ % tokens.length];
    if (t) req.headers = { ...req.headers, apiToken: t };
    return req;
  } }],
  ...(job.rate ? { overallRate: job.rate } : {}),
});
process.stdout.write(JSON.stringify({
  requests: result.requests.total,
  rps: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  p999: result.latency.p99_9 ?? result.latency.p999,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  statusCodes: result.statusCodeStats,
}));
