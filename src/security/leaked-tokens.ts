// security/: the leaked-token endpoint, in the style of secret-scanning partner programs
// (GitHub's secret scanning partner program): a scanner that found Gatehouse tokens in public
// code POSTs them to /security/leaked-tokens, signed with a shared key (HMAC-SHA256 over the raw
// body, RFC 2104, in `X-Gatehouse-Signature: sha256=<hex>`). Live tokens are revoked at once (the
// write goes through the change feed and the Redis eviction channel, so every instance refuses
// them on the next request); the answer says per token whether it was live — never whose it was.
import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import { leakedTokenReports } from '../observability/metrics.js';
import { RouteNotFound } from '../outcomes/errors.js';
import { errorHandler, Refusal } from '../web/error-handler.js';
import type { Store } from '../store/index.js';

export const SIGNATURE_HEADER = 'x-gatehouse-signature';
const SIGNATURE = /^sha256=([0-9a-f]{64})$/;
const BODY_LIMIT = '1mb';
const ACTOR = 'system:leaked-tokens';

export interface LeakedTokensOptions {
  store: Store;
  logger: Logger;
  /** Empty: the endpoint answers 404, as if it did not exist. */
  signingSecret: string;
  maxTokensPerReport: number;
  /** Resolves once the revocations are published to every instance (Redis), before the answer. */
  evictionsSent?: () => Promise<void>;
}

class ReportRefused extends Refusal {}

/** The HMAC-SHA256 signature header value of a body, as the scanner computes it. */
export function signReport(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function signatureValid(body: Buffer, header: string | undefined, secret: string): boolean {
  const m = SIGNATURE.exec(header ?? '');
  if (!m) return false;
  const want = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(m[1]!, 'hex'), want);
}

export function leakedTokenRoutes(opts: LeakedTokensOptions): Router {
  const { store, logger } = opts;
  // The format secret scanners send: one object per finding.
  const report = z
    .array(z.strictObject({ token: z.string().max(512), type: z.string().max(100).optional(), url: z.string().max(2048).optional(), source: z.string().max(100).optional() }))
    .min(1, 'report at least one token')
    .max(opts.maxTokensPerReport, `at most ${opts.maxTokensPerReport} tokens per report`);

  const router = express.Router();
  router.post('/leaked-tokens', express.raw({ type: () => true, limit: BODY_LIMIT }), async (req, res) => {
    if (!opts.signingSecret) throw new RouteNotFound();
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // Signature first: nothing of an unsigned body is read
    if (!signatureValid(raw, req.get(SIGNATURE_HEADER), opts.signingSecret)) {
      throw new ReportRefused('SignatureInvalid', 401, `The report must be signed: ${SIGNATURE_HEADER}: sha256=<HMAC-SHA256 of the body with the shared key, hex>.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new ReportRefused('InvalidRequest', 400, 'The report is not valid JSON.');
    }
    const result = report.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      throw new ReportRefused('InvalidRequest', 400, `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
    }
    const findings = result.data;
    // One report, one transaction; where each was found goes into its audit detail.
    const outcomes = await store.lifecycle.revokeLeaked({ actor: ACTOR, source: req.ip ?? null }, findings.map(({ token, url, source }) => ({ token, url, source })));
    await opts.evictionsSent?.();
    for (const o of outcomes) leakedTokenReports.inc({ outcome: o.outcome });
    logger.warn('leaked-token report', { reported: outcomes.length, revoked: outcomes.filter((o) => o.outcome === 'revoked').length });
    res.json(outcomes.map((o, i) => ({ tokenHint: o.hint, type: findings[i]!.type ?? null, live: o.live, outcome: o.outcome })));
  });
  // Logged at info: refused reports (unsigned, malformed) are worth seeing.
  router.use(errorHandler({ logger, what: 'leaked-token report', refusedLevel: 'info' }));
  return router;
}
