// observability/: the context of each request (request id, surface, who was authenticated...),
// kept beside the request rather than on it, so any layer — the edge, the forwarder's error
// mapping, Express error handlers — finds the request id the access line will carry.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from './access-log.js';

const contexts = new WeakMap<IncomingMessage, RequestContext>();
/** A client-sent X-Request-Id is kept when it is this tame (it lands in log lines and error bodies). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the client's X-Request-Id when it is tame, else a fresh UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

export function attachContext(req: IncomingMessage, ctx: RequestContext): void {
  contexts.set(req, ctx);
}

export function contextOf(req: IncomingMessage): RequestContext | undefined {
  return contexts.get(req);
}
