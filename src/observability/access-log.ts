// observability/: one JSON access line per request, written when the response finishes.
// The fields are collected on the request's context by the pipeline as it goes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tier } from '../cache/tier.js';
import type { AuthKind } from '../credentials/principal.js';
import type { Logger } from './logger.js';

export interface RequestContext {
  requestId: string;
  startedAt: number;
  surface: 'rest' | 'soap' | 'other';
  path?: string;
  authKind?: AuthKind;
  tokenId?: string;
  userId?: string;
  organizationId?: string;
  upstream?: string;
  cacheTier?: Tier;
  errorCode?: string;
}

export function logAccessOnFinish(logger: Logger, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void {
  res.once('close', () => {
    const level = res.statusCode >= 500 ? 'warn' : 'info';
    logger.log(level, 'access', {
      requestId: ctx.requestId,
      method: req.method,
      surface: ctx.surface,
      path: ctx.path,
      status: res.statusCode,
      ms: Math.round((performance.now() - ctx.startedAt) * 10) / 10,
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
