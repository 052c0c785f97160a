// observability/: what happens when a response is done — one JSON access line and the request
// metrics, both from the fields the pipeline collected on the request's context as it went.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthKind, CacheTier } from './labels.js';
import type { Logger } from './logger.js';
import { authOutcomes, authReason, cacheLookups, httpDuration, httpRequests } from './metrics.js';

export interface RequestContext {
  requestId: string;
  /** W3C trace id from an incoming `traceparent`, so access lines join the caller's trace. */
  traceId?: string;
  startedAt: number;
  /** `forward-auth`: a decision asked by an edge (forward-auth/), which forwards the call itself. */
  surface: 'rest' | 'soap' | 'web' | 'forward-auth';
  /** A bounded label: REST resource, SOAP operation family, `settings`, `health`... */
  route?: string;
  path?: string;
  /** Set once the pipeline has looked for a credential: the kind it judged, or `none`. */
  credentialKind?: AuthKind | 'none';
  authKind?: AuthKind;
  tokenId?: string;
  userId?: string;
  organizationId?: string;
  upstream?: string;
  cacheTier?: CacheTier;
  errorCode?: string;
}

export function onResponseDone(logger: Logger, accessLog: boolean, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void {
  res.once('close', () => {
    const seconds = (performance.now() - ctx.startedAt) / 1000;
    const route = ctx.route ?? 'other';
    httpRequests.inc({ surface: ctx.surface, route, status: res.statusCode });
    httpDuration.observe({ surface: ctx.surface, route }, seconds);
    if (ctx.credentialKind) {
      const reason = authReason(ctx.errorCode);
      if (reason) authOutcomes.inc({ kind: ctx.credentialKind, reason });
    }
    if (ctx.cacheTier) cacheLookups.inc({ tier: ctx.cacheTier });
    if (!accessLog) return;
    logger.log(res.statusCode >= 500 ? 'warn' : 'info', 'access', {
      requestId: ctx.requestId,
      traceId: ctx.traceId,
      method: req.method,
      surface: ctx.surface,
      path: ctx.path,
      status: res.statusCode,
      ms: Math.round(seconds * 10000) / 10,
      authKind: ctx.authKind,
      tokenId: ctx.tokenId,
      userId: ctx.userId,
      organizationId: ctx.organizationId,
      upstream: ctx.upstream,
      cacheTier: ctx.cacheTier,
      errorCode: ctx.errorCode,
      aborted: !res.writableFinished || undefined,
    });
  });
}
