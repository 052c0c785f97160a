// pipeline/: the one place a GatehouseError becomes a REST response, in the platform's error
// body {"ErrorId","Message","SupportId"} with SupportId = the request id.
import type { ServerResponse } from 'node:http';
import type { GatehouseError } from '../outcomes/errors.js';

/** The platform's error body, as JSON text. */
export function restErrorBody(err: GatehouseError, requestId: string): string {
  return JSON.stringify({ ErrorId: err.code, Message: err.message, SupportId: requestId });
}

export function sendRestError(res: ServerResponse, err: GatehouseError, requestId: string): void {
  if (res.headersSent) {
    // Too late for a clean answer: cut the connection so the client sees a failure, not a truncated success.
    res.destroy();
    return;
  }
  const body = restErrorBody(err, requestId);
  res.writeHead(err.status, {
    ...err.headers(),
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Request-Id': requestId,
  });
  res.end(body);
}
