// The shipped Postman collection, run by newman against a running gateway: what an integrator
// who imports it sees must pass.
import { join } from 'node:path';
import newman from 'newman';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUser, TEST_ACTOR, type SeededUser } from '../helpers/fixtures.js';
import { ROOT } from '../helpers/processes.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

let ts: TestStore;
let gw: TestGateway;
let alice: SeededUser;
let disabled: string;

beforeAll(async () => {
  ts = await createTestStore();
  gw = await startTestGateway({ store: ts.store, storeUrl: ts.url });
  alice = await seedUser(ts.store);
  disabled = (await ts.store.admin.createApiToken(TEST_ACTOR, alice.login, 'Disabled one')).secret;
});
afterAll(async () => {
  await gw?.close();
  await ts?.drop();
});

describe('Postman collection', () => {
  it('runs green with newman', async () => {
    const summary = await new Promise<newman.NewmanRunSummary>((resolve, reject) =>
      newman.run(
        {
          collection: join(ROOT, 'config/postman/gatehouse.postman_collection.json'),
          environment: join(ROOT, 'config/postman/gatehouse.postman_environment.json'),
          envVar: [
            { key: 'baseUrl', value: gw.url },
            { key: 'loginName', value: alice.login },
            { key: 'apiToken', value: alice.token },
            { key: 'disabledApiToken', value: disabled },
          ],
          reporters: [],
        },
        (err, s) => (err ? reject(err) : resolve(s)),
      ),
    );
    const failures = summary.run.failures.map((f) => `${f.source?.name}: ${f.error.message}`);
    expect(failures).toEqual([]);
    expect(summary.run.stats.requests.total).toBe(10);
    expect(summary.run.stats.assertions.total).toBe(15);
  });
});
