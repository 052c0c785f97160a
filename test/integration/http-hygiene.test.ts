// HTTP hygiene against hostile clients, with raw sockets where a client library would tidy the
// request up: head size and header count (431), slow heads (408), body limits per route family
// (413), request smuggling shapes refused before any forwarding, hop-by-hop headers dropped,
// X-Forwarded-* believed only from trusted proxies, helmet on the settings page, no CORS.
import http from 'node:http';
import request from 'supertest';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rawExchange } from '../helpers/recording-upstream.js';
import type { TestGateway } from '../helpers/test-gateway.js';
import { useGateway } from '../helpers/use-gateway.js';
import { GET_ENVELOPE_HEADERS, getEnvelopeByIdCall } from '../helpers/soap-messages.js';

const HTTP = {
  maxHeaderBytes: 4096,
  maxHeaderCount: 30,
  headersTimeoutMs: 1000,
  requestTimeoutMs: 5000,
  keepAliveTimeoutMs: 5000,
  bodyLimitBytes: { rest: 1024, soap: 2048 },
  trustedProxies: [] as string[],
};

const { gw, upstream: up, users: { alice }, startGateway } = useGateway({ upstream: 'recording', overrides: { http: HTTP }, users: { alice: {} } });
let trusting: TestGateway;

beforeAll(async () => {
  trusting = await startGateway({
    overrides: { http: { ...HTTP, trustedProxies: ['127.0.0.1/8'] }, abuse: { failuresPerIp: 2, failuresPerToken: 0, windowSeconds: 60, tokenRequestsPerSecond: 0 } },
  });
});
beforeEach(() => {
  up.received.length = 0;
});

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
const bodyOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { ErrorId: string; Message: string; SupportId: string };

describe('request heads', () => {
  it('431 in the REST error body when the head is larger than maxHeaderBytes', async () => {
    const raw = await rawExchange(gw.url, `GET /Api/v6/envelope/1 HTTP/1.1\r\nHost: x\r\napiToken: ${alice.token}\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    expect(statusOf(raw)).toBe(431);
    expect(bodyOf(raw).ErrorId).toBe('HeadersTooLarge');
    expect(raw).not.toContain(alice.token);
    expect(up.received).toHaveLength(0);
  });

  it('431 when there are more header lines than maxHeaderCount', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `x-h${i}: 1\r\n`).join('');
    const raw = await rawExchange(gw.url, `GET /Api/v6/envelope/1 HTTP/1.1\r\nHost: x\r\napiToken: ${alice.token}\r\n${lines}\r\n`);
    expect(statusOf(raw)).toBe(431);
    expect(bodyOf(raw).ErrorId).toBe('HeadersTooLarge');
    expect(up.received).toHaveLength(0);
    // ...and a normal request passes
    await request(gw.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).expect(200);
  });

  it('408 and a closed connection for a client that never finishes its head (slowloris)', async () => {
    const started = Date.now();
    const raw = await rawExchange(gw.url, `GET /Api/v6/envelope/1 HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n`, 6000);
    expect(statusOf(raw)).toBe(408);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('request smuggling shapes (RFC 9112 §6.3), refused by the parser and never forwarded', () => {
  const post = (framing: string, body: string) => `POST /Api/v6/envelope/1 HTTP/1.1\r\nHost: x\r\napiToken: ${alice.token}\r\nContent-Type: text/plain\r\n${framing}\r\n${body}`;
  it.each([
    ['Content-Length with Transfer-Encoding', 'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\nGET /Api/v6/envelope/2 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['two different Content-Lengths', 'Content-Length: 4\r\nContent-Length: 40\r\n', 'abcd'],
    ['a Transfer-Encoding that does not end in chunked', 'Transfer-Encoding: chunked, identity\r\n', '4\r\nabcd\r\n0\r\n\r\n'],
    ['an obfuscated Transfer-Encoding', 'Transfer-Encoding: xchunked\r\n', '4\r\nabcd\r\n0\r\n\r\n'],
    ['a space before the colon', 'Content-Length : 4\r\n', 'abcd'],
  ])('%s → 400', async (_name, framing, body) => {
    const raw = await rawExchange(gw.url, post(framing, body));
    expect(statusOf(raw)).toBe(400);
    expect(raw).toContain('"ErrorId":"BadRequest"');
    expect(raw.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(up.received).toHaveLength(0);
  });
});

describe('body limits per route family', () => {
  it('413 in the REST error body for a REST body over the limit, before the upstream', async () => {
    const res = await request(gw.url).post('/Api/v6/envelope/1').set('apiToken', alice.token).set('Content-Type', 'text/plain').send('x'.repeat(2000)).expect(413);
    expect(res.body.ErrorId).toBe('PayloadTooLarge');
    expect(up.received).toHaveLength(0);
    await request(gw.url).post('/Api/v6/envelope/1').set('apiToken', alice.token).set('Content-Type', 'text/plain').send('x'.repeat(500)).expect(200);
  });

  it('a SOAP Fault (Client, HTTP 500 as SOAP 1.1 has it) for a SOAP body over the limit', async () => {
    const res = await request(gw.url).post('/api.asmx').set('Content-Type', 'text/xml; charset=utf-8').set('SOAPAction', '""').send(`<x>${'a'.repeat(3000)}</x>`);
    expect(res.status).toBe(500);
    expect(res.text).toContain('<faultcode>soap:Client</faultcode>');
    expect(res.text).toContain('<error>PayloadTooLarge</error>');
    expect(up.received).toHaveLength(0);
  });
});

/** POSTs `chunks` with Transfer-Encoding: chunked and no Content-Length, as streaming clients send. */
function postChunked(path: string, headers: Record<string, string>, chunks: string[]): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${gw.url}${path}`, { method: 'POST', headers: { ...headers, 'Transfer-Encoding': 'chunked' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('body limits for chunked bodies (no Content-Length), counted as they stream', () => {
  it('REST: 413 once the body passes the limit; the upstream never gets a complete request', async () => {
    const res = await postChunked('/Api/v6/envelope/1', { apiToken: alice.token, 'Content-Type': 'text/plain' }, ['a'.repeat(600), 'b'.repeat(600), 'c'.repeat(600)]);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).ErrorId).toBe('PayloadTooLarge');
    await new Promise((r) => setTimeout(r, 100));
    expect(up.received).toHaveLength(0);
  });

  it('REST: a chunked body within the limit arrives whole', async () => {
    const res = await postChunked('/Api/v6/envelope/1', { apiToken: alice.token, 'Content-Type': 'text/plain' }, ['a'.repeat(400), 'b'.repeat(400)]);
    expect(res.status).toBe(200);
    expect(up.received).toHaveLength(1);
    expect(up.received[0]!.body.toString()).toBe('a'.repeat(400) + 'b'.repeat(400));
  });

  it('SOAP: a Fault with PayloadTooLarge once the message passes the SOAP limit', async () => {
    const message = getEnvelopeByIdCall(alice.token, '1'.repeat(3000));
    const chunks = Array.from({ length: Math.ceil(message.length / 1000) }, (_, i) => message.slice(i * 1000, (i + 1) * 1000));
    const res = await postChunked('/api.asmx', GET_ENVELOPE_HEADERS, chunks);
    expect(res.status).toBe(500);
    expect(res.text).toContain('<faultcode>soap:Client</faultcode>');
    expect(res.text).toContain('<error>PayloadTooLarge</error>');
    await new Promise((r) => setTimeout(r, 100));
    expect(up.received).toHaveLength(0);
  });
});

describe('what the upstream receives', () => {
  it('no hop-by-hop header, nor one the client named in Connection', async () => {
    await request(gw.url)
      .get('/Api/v6/envelope/1')
      .set('apiToken', alice.token)
      .set('Connection', 'keep-alive, X-Hop-Secret')
      .set('X-Hop-Secret', 'for this hop only')
      .set('Keep-Alive', 'timeout=5')
      .set('TE', 'trailers')
      .set('Proxy-Authorization', 'Basic Zm9vOmJhcg==')
      .set('Proxy-Connection', 'keep-alive')
      .expect(200);
    const h = up.received[0]!.headers;
    for (const name of ['x-hop-secret', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection', 'apitoken']) expect(h[name], name).toBeUndefined();
  });

  it('X-Forwarded-* from an untrusted peer are replaced; from a trusted proxy the chain is extended', async () => {
    await request(gw.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).set('X-Forwarded-For', '6.6.6.6').set('X-Forwarded-Host', 'evil.example').expect(200);
    expect(String(up.received[0]!.headers['x-forwarded-for'])).not.toContain('6.6.6.6');
    expect(up.received[0]!.headers['x-forwarded-host']).not.toBe('evil.example');
    await request(trusting.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).set('X-Forwarded-For', '6.6.6.6').expect(200);
    expect(String(up.received[1]!.headers['x-forwarded-for'])).toMatch(/^6\.6\.6\.6, ?127\.0\.0\.1$/);
  });

  it('behind a trusted proxy, the abuse limits count the forwarded client, not the proxy', async () => {
    const bad = (ip: string) => request(trusting.url).get('/Api/v6/envelope/1').set('apiToken', 'garbage-token').set('X-Forwarded-For', ip);
    await bad('9.9.9.1').expect(401);
    await bad('9.9.9.1').expect(401);
    await bad('9.9.9.1').expect(429);
    await request(trusting.url).get('/Api/v6/envelope/1').set('apiToken', alice.token).set('X-Forwarded-For', '9.9.9.2').expect(200);
  });
});

describe('browser-facing headers', () => {
  it('the settings page carries helmet security headers with our CSP', async () => {
    const res = await request(gw.url).get('/settings').expect(200);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
  });

  it('no CORS headers anywhere (none configured)', async () => {
    for (const path of ['/Api/v6/envelope/1', '/settings', '/settings/api/me']) {
      const res = await request(gw.url).get(path).set('Origin', 'https://evil.example').set('apiToken', alice.token);
      expect(res.headers['access-control-allow-origin'], path).toBeUndefined();
      const pre = await request(gw.url).options(path).set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'DELETE');
      expect(pre.headers['access-control-allow-origin'], path).toBeUndefined();
    }
  });
});
