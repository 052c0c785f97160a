// web/: the one Express error handler of the web surface — the settings API, the OAuth routes and
// the leaked-token endpoint all end their router with `errorHandler({...})`. It turns whatever a
// route threw into an outcome (a GatehouseError; body-parser's errors mapped here, once), logs it
// by status (5xx error with the internal detail, 4xx at a low level: the access line already has
// the status and now the code), and answers with the request id of the access-log line as the
// support id. Each router says only how its answer looks (the platform's error body by default;
// OAuth its RFC 6749 §5.2 form).
import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from '../observability/logger.js';
import { contextOf } from '../observability/request-context.js';
import { GatehouseError, InternalError, PayloadTooLarge } from '../outcomes/errors.js';
import { sendRestError } from '../pipeline/rest-response.js';

/** A refusal made by a web route, its code and status given where it is made (settings, leaked-token reports, unreadable bodies). */
export class Refusal extends GatehouseError {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The fields of body-parser's (http-errors) errors that say what went wrong. */
interface BodyParserError {
  type: string;
  limit?: number;
}

const isBodyParserError = (e: unknown): e is BodyParserError => typeof e === 'object' && e !== null && typeof (e as { type?: unknown }).type === 'string';

/** body-parser's error as an outcome (their `type`s: body-parser/lib/read.js, raw-body); undefined for anything else. */
export function bodyOutcome(err: unknown, req: Request): GatehouseError | undefined {
  if (!isBodyParserError(err)) return undefined;
  switch (err.type) {
    case 'entity.too.large':
      return err.limit === undefined ? new Refusal('PayloadTooLarge', 413, 'The request body is too large.') : new PayloadTooLarge(err.limit);
    case 'parameters.too.many':
      return new Refusal('PayloadTooLarge', 413, 'The request body has too many parameters.');
    case 'entity.parse.failed':
    case 'querystring.parse.rangeError':
      return new Refusal('InvalidRequest', 400, req.is('application/json') ? 'The request body is not valid JSON.' : 'The request body could not be parsed.');
    case 'request.aborted':
    case 'request.size.invalid':
      return new Refusal('InvalidRequest', 400, 'The request body ended before its declared length.');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new Refusal('UnsupportedMediaType', 415, 'The request body is in a charset or content encoding this endpoint does not take.');
    default:
      return undefined;
  }
}

/** The id of the request's access-log line; a fresh one only where no edge made a context (a router under test alone). */
export function supportIdOf(req: Request): string {
  return contextOf(req)?.requestId ?? randomUUID();
}

export type SendError = (req: Request, res: Response, out: GatehouseError, requestId: string) => void;

/** The platform's error body {"ErrorId","Message","SupportId"}. */
export const sendPlatformError: SendError = (_req, res, out, requestId) => sendRestError(res, out, requestId);

export interface ErrorHandlerOptions {
  logger: Logger;
  /** Names the routes in log lines: `settings API` → "settings API failed" / "settings API refused". */
  what: string;
  /** This router's own failures that are not outcomes yet (a store conflict...), as outcomes. */
  outcomeOf?: (err: unknown) => GatehouseError | undefined;
  /** Writes the answer; default the platform's error body. */
  send?: SendError;
  /** Level of the line for a refusal (4xx); default debug. */
  refusedLevel?: 'debug' | 'info';
}

/**
 * The error handler a router ends with.
 *
 * @example
 *   router.use(errorHandler({ logger, what: 'settings API', outcomeOf: storeOutcome }));
 */
export function errorHandler(opts: ErrorHandlerOptions): ErrorRequestHandler {
  const send = opts.send ?? sendPlatformError;
  const refusedLevel = opts.refusedLevel ?? 'debug';
  return (err: unknown, req, res, _next) => {
    const requestId = supportIdOf(req);
    let out = err instanceof GatehouseError ? err : (opts.outcomeOf?.(err) ?? bodyOutcome(err, req));
    if (!out) {
      // Unexpected: the detail stays in the log, the client gets the support id.
      opts.logger.error(`${opts.what} failed`, { requestId, method: req.method, path: req.path, error: (err as Error | undefined)?.message });
      out = new InternalError();
    } else if (out.status < 500) {
      opts.logger.log(refusedLevel, `${opts.what} refused`, { requestId, code: out.code, method: req.method, path: req.path, source: req.ip });
    }
    const ctx = contextOf(req);
    if (ctx) ctx.errorCode = out.code;
    if (res.headersSent) {
      // Too late for a clean answer: cut the connection so the client sees a failure, not a truncated success.
      res.destroy();
      return;
    }
    send(req, res, out, requestId);
  };
}
