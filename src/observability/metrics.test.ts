import { describe, expect, it } from 'vitest';
import { metricsRegistry, orgTokenRequests } from './metrics.js';

describe('metrics registry', () => {
  it('exposes the organization-token counter by organization id and outcome', async () => {
    orgTokenRequests.inc({ organization_id: 'org-unit-test', outcome: 'forwarded' });
    orgTokenRequests.inc({ organization_id: 'org-unit-test', outcome: 'forwarded' });
    const text = await metricsRegistry.metrics();
    expect(text).toContain('# TYPE gatehouse_org_token_requests_total counter');
    expect(text).toContain('gatehouse_org_token_requests_total{organization_id="org-unit-test",outcome="forwarded"} 2');
  });
});
