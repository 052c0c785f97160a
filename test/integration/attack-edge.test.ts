// What an attacker found ajar at the edge (issue 19, items 1, 4, 6, 7, 8, 11), one case per finding,
// each against a real gateway in front of an upstream that records everything it receives, with
// raw sockets where a client library would tidy the request up.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/use-gateway.js';

const { gw, upstream, users: { alice } } = useGateway({
  upstream: 'recording',
  users: { alice: {} },
  noSecretsInLogs: true,
});

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
const headOf = (raw: string) => raw.slice(0, raw.indexOf('\r\n\r\n'));
/** The whole body of a raw answer, de-chunked; undefined when it is cut short (no final chunk, fewer bytes than declared). */
function bodyOf(raw: string): string | undefined {
  const head = headOf(raw);
  let rest = raw.slice(head.length + 4);
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  if (length !== undefined) return Buffer.byteLength(rest, 'latin1') >= Number(length) ? rest.slice(0, Number(length)) : undefined;
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return rest;
  let body = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return undefined;
    const size = parseInt(rest.slice(0, eol), 16);
    if (size === 0) return body;
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/**
 * Writes `bytes` on a fresh connection, then shuts its write side (FIN) at once, and reads until
 * the gateway closes: what a client that half-closes after its request is answered.
 */
function halfClosedExchange(url: string, bytes: string, waitMs = 5000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const sock = net.connect(Number(port), hostname, () => sock.end(bytes));
    sock.setNoDelay(true);
    // The client keeps reading after its own FIN (allowHalfOpen on the client is about its own end)
    const chunks: Buffer[] = [];
    const t = setTimeout(() => sock.destroy(), waitMs);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

describe('8. half-closed clients', () => {
  it('a client that sends its request and shuts its write side gets the whole answer of a forwarded call', async () => {
    upstream.received.length = 0;
    const raw = await halfClosedExchange(gw.url, `GET /Api/v6/envelope/1 HTTP/1.1\r\nHost: x\r\napiToken: ${alice.token}\r\n\r\n`);
    expect(statusOf(raw)).toBe(200);
    expect(JSON.parse(bodyOf(raw) ?? 'cut short')).toMatchObject({ ok: true });
    expect(upstream.received).toHaveLength(1);
  });

  it('a POST whose body is complete before the FIN is answered too, and the access line is not "aborted"', async () => {
    upstream.received.length = 0;
    const body = '{"name":"half-closed"}';
    const raw = await halfClosedExchange(
      gw.url,
      `POST /Api/v6/envelope HTTP/1.1\r\nHost: x\r\napiToken: ${alice.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Request-Id: half-closed-post\r\n\r\n${body}`,
    );
    expect(statusOf(raw)).toBe(200);
    expect(upstream.received.at(-1)?.body.toString()).toBe(body);
    const line = gw.logs.map((l) => JSON.parse(l)).find((l) => l.message === 'access' && l.requestId === 'half-closed-post');
    expect(line).toMatchObject({ status: 200 });
    expect(line.aborted).toBeUndefined();
  });
});
