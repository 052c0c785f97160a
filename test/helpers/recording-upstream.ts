// An upstream that records every request it receives (method, url, headers, body bytes) and
// answers as told: normally (200 JSON), or with a fault — reset the connection, hang, answer
// slowly, or close in the middle of its body. For hygiene, fuzz and fault-injection suites.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export type UpstreamBehaviour = 'ok' | 'reset' | 'hang' | 'slow' | 'mid-body';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface RecordingUpstream {
  url: string;
  received: Received[];
  behaviour: UpstreamBehaviour;
  /** Delay of `slow` answers. */
  slowMs: number;
  close(): Promise<void>;
}

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const received: Received[] = [];
  const state = { behaviour: 'ok' as UpstreamBehaviour, slowMs: 300 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) });
      const isSoap = String(req.headers['content-type'] ?? '').includes('xml');
      const body = isSoap
        ? '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ok/></soap:Body></soap:Envelope>'
        : JSON.stringify({ ok: true, padding: 'x'.repeat(4096) });
      const type = isSoap ? 'text/xml; charset=utf-8' : 'application/json';
      switch (state.behaviour) {
        case 'reset':
          req.socket.resetAndDestroy();
          return;
        case 'hang':
          return; // never answers; the gateway's timeout must
        case 'slow': {
          const t = setTimeout(() => res.writeHead(200, { 'content-type': type }).end(body), state.slowMs);
          res.on('close', () => clearTimeout(t));
          return;
        }
        case 'mid-body':
          res.writeHead(200, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) });
          res.write(body.slice(0, 100));
          setTimeout(() => req.socket.destroy(), 20);
          return;
        default:
          res.writeHead(200, { 'content-type': type }).end(body);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: UpstreamBehaviour) {
      state.behaviour = b;
    },
    get slowMs() {
      return state.slowMs;
    },
    set slowMs(ms: number) {
      state.slowMs = ms;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Sends bytes exactly as written on a fresh connection; resolves with everything read until close (or `waitMs`).
 * `halfClose`: shut the write side right after the bytes (FIN) and keep reading, as a half-closing client does.
 */
export function rawExchange(url: string, bytes: string | Buffer, waitMs = 3000, opts: { halfClose?: boolean } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const t = setTimeout(() => sock.destroy(), waitMs);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    sock.on('connect', () => (opts.halfClose ? sock.end(bytes) : sock.write(bytes)));
    sock.once('error', reject);
  });
}
