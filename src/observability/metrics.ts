// observability/: the Prometheus metrics registry (prom-client) and the counters the pipeline
// increments. Labels carry ids, never names, logins or secrets. Exposing `/metrics` is wired in app.ts
// by the part that serves it; this module only owns the registry.
import { Counter, Registry } from 'prom-client';

export const metricsRegistry = new Registry();

/**
 * Calls made with an organization API token (deprecated), per organization and outcome
 * (`forwarded` or the refusal's error code), so operators can find who still depends on them.
 * Calls refused before the token's organization is known count under organization_id="unknown".
 */
export const orgTokenRequests = new Counter({
  name: 'gatehouse_org_token_requests_total',
  help: 'Requests made with an organization API token, by organization id and outcome.',
  labelNames: ['organization_id', 'outcome'] as const,
  registers: [metricsRegistry],
});
