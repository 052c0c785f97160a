// pipeline/: HTTP hygiene before any pipeline runs — the server's slow-client timeouts and head
// limits (node:http options), too many header lines (431), a declared body over the route
// family's limit (413), and the answer to requests node:http's parser refused itself (oversized
// head → 431, slow head → 408, malformed or smuggling-shaped framing such as Content-Length with
// Transfer-Encoding → 400), all in the REST error body. Nothing here reads a body.
// /!\ Hot path.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/schema.js';

type HttpConfig = Config['http'];

/** node:http server options from config (RFC 9112 parsing stays strict: no `insecureHTTPParser`). */
export function serverOptions(cfg: HttpConfig): ServerOptions {
  return {
    maxHeaderSize: cfg.maxHeaderBytes,
    headersTimeout: cfg.headersTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    keepAliveTimeout: cfg.keepAliveTimeoutMs,
    // How often node looks for requests past those timeouts (default 30 s: too coarse for slowloris)
    connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(cfg.headersTimeoutMs / 4))),
    insecureHTTPParser: false,
  };
}

/** True when the request carries more header lines than allowed (the server keeps one extra to tell). */
export function tooManyHeaders(req: IncomingMessage, maxHeaderCount: number): boolean {
  return req.rawHeaders.length / 2 > maxHeaderCount;
}

/** True when the declared body is over `limit` bytes (0 = no limit). Chunked bodies are counted as they stream (proxy/forward.ts). */
export function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  if (limit === 0) return false;
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > limit;
}

const PARSER_REFUSALS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'HeadersTooLarge', 'The request headers are too large or too many.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'RequestTimeout', 'The request was not received in time.'],
};

/**
 * The server's `clientError` handler: node:http refused the request before any handler ran. The
 * answer keeps the REST error shape and the connection is closed (its framing cannot be trusted).
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, code, message] = PARSER_REFUSALS[err.code ?? ''] ?? [400, 'BadRequest', 'The request is not valid HTTP/1.1.'];
  const body = JSON.stringify({ ErrorId: code, Message: message, SupportId: randomUUID() });
  const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Cache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
}
