// observability/: OpenTelemetry traces, off unless `tracing.otlpEndpoint` is set. One server span
// per request, a child of the caller's W3C `traceparent` (or a new trace); the gateway's span is
// what the upstream sees as its parent. Spans carry outcomes and ids, never a credential.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { RequestContext } from './access-log.js';

export interface Tracing {
  /** Starts the request's span; the returned function ends it when the response is done. */
  startRequest(req: IncomingMessage, ctx: RequestContext): (res: ServerResponse) => void;
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
};

export function createTracing(opts: { otlpEndpoint: string; serviceName: string }): Tracing | undefined {
  if (!opts.otlpEndpoint) return undefined;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.otlpEndpoint }))],
  });
  const tracer: Tracer = provider.getTracer('gatehouse');
  propagation.setGlobalPropagator(propagator);

  return {
    startRequest(req, ctx) {
      const parent = propagator.extract(context.active(), req.headers, headerGetter);
      const span = tracer.startSpan(`${req.method} gateway`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
      // The upstream continues the trace from the gateway's span.
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(parent, span), carrier, { set: (c, k, v) => (c[k] = v) });
      if (carrier.traceparent) req.headers.traceparent = carrier.traceparent;
      return (res) => {
        span.setAttributes({
          'http.response.status_code': res.statusCode,
          'url.path': ctx.path ?? '',
          'gatehouse.surface': ctx.surface,
          'gatehouse.request_id': ctx.requestId,
          ...(ctx.route ? { 'gatehouse.route': ctx.route } : {}),
          ...(ctx.authKind ? { 'gatehouse.auth_kind': ctx.authKind } : {}),
          ...(ctx.errorCode ? { 'gatehouse.error_code': ctx.errorCode } : {}),
          ...(ctx.upstream ? { 'gatehouse.upstream': ctx.upstream } : {}),
        });
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.updateName(`${req.method} ${ctx.surface} ${ctx.route ?? ''}`.trim());
        span.end();
      };
    },
    shutdown: () => provider.shutdown(),
  };
}
