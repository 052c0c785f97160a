// OpenTelemetry export, turned on by config: spans reach a real OTLP/HTTP endpoint (a collector
// stand-in that records what it receives), continue the caller's trace, and carry no secret.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { useGateway } from '../helpers/use-gateway.js';

// The test starts the gateway itself: closing it flushes the spans.
const { ts, users: { alice } } = useGateway({ gateway: false, users: { alice: {} } });
let collector: http.Server;
const received: string[] = [];
let endpoint: string;

beforeAll(async () => {
  collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
});
afterAll(async () => {
  await new Promise<void>((r) => collector.close(() => r()));
});

describe('tracing', () => {
  it('exports one server span per request, child of the caller trace, and hands its own span to the upstream', async () => {
    let gw: TestGateway | undefined = await startTestGateway({ store: ts.store, storeUrl: ts.url, overrides: { observability: { metricsPath: '/metrics', otlpEndpoint: endpoint } } });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    try {
      const res = await request(gw.url)
        .get('/Api/v6/envelope/1')
        .set('apiToken', alice.token)
        .set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`)
        .expect(200);
      expect(res.body.CalledBy.ReceivedHeaders).toContain('traceparent');
      await request(gw.url).get('/Api/v6/envelope/1').set('apiToken', 'nope').expect(401);
    } finally {
      await gw.close(); // flushes the batch
      gw = undefined;
    }
    const all = received.join('\n');
    expect(all).toContain(traceId);
    expect(all).toContain('gatehouse.auth_kind');
    expect(all).toContain('CredentialMalformed');
    expect(all).not.toContain(alice.token);
    const spans = received.flatMap((b) => JSON.parse(b).resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans)));
    expect(spans).toHaveLength(2);
    expect(spans.find((s: any) => s.traceId === traceId)?.parentSpanId).toBe('00f067aa0ba902b7');
  });
});
