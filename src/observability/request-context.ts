// observability/: the context of each request (request id, surface, who was authenticated...),
// kept beside the request rather than on it, so any layer — the edge, the forwarder's error
// mapping, Express error handlers — finds the request id the access line will carry.
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from './access-log.js';

const contexts = new WeakMap<IncomingMessage, RequestContext>();

export function attachContext(req: IncomingMessage, ctx: RequestContext): void {
  contexts.set(req, ctx);
}

export function contextOf(req: IncomingMessage): RequestContext | undefined {
  return contexts.get(req);
}
