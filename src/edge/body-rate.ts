// edge/: request bodies that come too slowly (issue 19 item 4). node:http bounds a head
// (`headersTimeout`) and a whole request (`requestTimeout`, minutes: large SOAP uploads need
// room), but not the pace in between, so a body sent at 1 byte/s held its connection (and, once
// forwarded, an upstream connection) for the whole request timeout. Here every request whose body
// is still coming is watched: over each `http.bodyIdleTimeoutMs` it must bring at least
// `http.bodyMinBytesPerSecond` × that many seconds (at least one byte), counted on its socket
// (`bytesRead`), or it is answered 408 — the REST error body, or a SOAP Fault on the SOAP surface —
// and its connection closed; once an answer is under way the connection is just cut. The
// forwarded call, if any, ends with the connection (its body stream is aborted, so the upstream
// never sees a complete request). Time the gateway itself is not reading (the socket paused
// because the request's buffer is full: the upstream or the pipeline is slow) is not held against
// the client. Counted in gatehouse_request_body_timeouts_total{surface}.
// /!\ Hot path: per request with a body, one Set insertion; the judging runs on one timer per
// server, a few times per window, over the bodies in flight.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../observability/access-log.js';
import { bodyTimeouts } from '../observability/metrics.js';
import { BodyTimeout } from '../outcomes/errors.js';
import { sendRestError } from '../pipeline/rest-response.js';
import { sendSoapFault } from '../soap/faults.js';
import { versionOfContentType } from '../soap/protocol.js';

export interface BodyRateOptions {
  /** `http.bodyIdleTimeoutMs`: the stretch a body is judged over; 0 = not watched. */
  bodyIdleTimeoutMs: number;
  /** `http.bodyMinBytesPerSecond`: the slowest pace accepted over that stretch. */
  bodyMinBytesPerSecond: number;
}

interface Watched {
  req: IncomingMessage;
  res: ServerResponse;
  ctx: RequestContext;
  /** The socket's bytesRead when the current stretch began, and when it began. */
  bytes: number;
  since: number;
}

export interface BodyRateWatch {
  /** Watches the request's body while it is still coming (none, or all of it read with the head: nothing to do). */
  track(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void;
  /** Stops the timer (the server has closed). */
  close(): void;
}

/** Whether the request still has body bytes to come. */
function bodyComing(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}

/** Answers a stalled body: 408 in the surface's shape, connection closed; cut when an answer is already under way. */
function answerStalled(w: Watched): void {
  const { req, res, ctx } = w;
  bodyTimeouts.inc({ surface: ctx.surface });
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  const err = new BodyTimeout();
  ctx.errorCode = err.code;
  res.setHeader('Connection', 'close');
  if (ctx.surface === 'soap') sendSoapFault(res, versionOfContentType(req.headers['content-type']), err, ctx.requestId, true);
  else sendRestError(res, err, ctx.requestId);
}

export function bodyRateWatch(opts: BodyRateOptions): BodyRateWatch | undefined {
  const window = opts.bodyIdleTimeoutMs;
  if (window <= 0) return undefined;
  const minBytes = Math.max(1, Math.floor((opts.bodyMinBytesPerSecond * window) / 1000));
  const watched = new Set<Watched>();

  const judge = () => {
    const now = Date.now();
    for (const w of watched) {
      const { req, res } = w;
      const socket = req.socket;
      // Done: the whole body came, the connection is gone, or the answer went out and the rest was read
      if (req.complete || socket.destroyed) {
        watched.delete(w);
        continue;
      }
      const read = socket.bytesRead;
      // The gateway is not reading (the request's buffer is full): not the client's doing
      if (socket.isPaused()) {
        w.bytes = read;
        w.since = now;
        continue;
      }
      if (now - w.since < window) continue;
      if (read - w.bytes >= minBytes) {
        w.bytes = read;
        w.since = now;
        continue;
      }
      watched.delete(w);
      if (res.writableFinished) socket.destroy(); // answered already; only the rest of a slow body was keeping it
      else answerStalled(w);
    }
  };
  // Judged a few times per window, so a stalled body is answered within 1¼ windows
  const timer = setInterval(judge, Math.min(1000, Math.max(50, Math.floor(window / 4))));
  timer.unref();

  return {
    track(req, res, ctx) {
      if (bodyComing(req)) watched.add({ req, res, ctx, bytes: req.socket.bytesRead, since: Date.now() });
    },
    close() {
      clearInterval(timer);
      watched.clear();
    },
  };
}
