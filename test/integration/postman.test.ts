// The shipped Postman collection, run by newman against a running gateway: what an integrator
// who imports it sees must pass, with only `baseUrl` and `apiToken` set (cases that need a
// second token skip themselves, visibly) and with every optional variable set too.
import { join } from 'node:path';
import newman from 'newman';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { ROOT } from '../helpers/processes.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users: { alice } } = useGateway({ users: { alice: {} } });
let disabled: string;

beforeAll(async () => {
  disabled = (await ts.store.admin.createApiToken(TEST_ACTOR, alice.login, 'Disabled one')).secret;
});

interface Run {
  failures: string[];
  requests: number;
  assertions: number;
  /** Names of the assertions the collection skipped (pm.test.skip). */
  skipped: string[];
  /** Console lines the collection's scripts wrote. */
  console: string[];
  /** Names of the requests that were sent. */
  sent: string[];
}

async function runCollection(envVar: { key: string; value: string }[]): Promise<Run> {
  const consoleLines: string[] = [];
  const skipped: string[] = [];
  const summary = await new Promise<newman.NewmanRunSummary>((resolve, reject) => {
    const emitter = newman.run(
      {
        collection: join(ROOT, 'config/postman/gatehouse.postman_collection.json'),
        environment: join(ROOT, 'config/postman/gatehouse.postman_environment.json'),
        envVar,
        reporters: [],
      },
      (err, s) => (err ? reject(err) : resolve(s)),
    );
    emitter.on('console', (_err: unknown, o: { messages: unknown[] }) => consoleLines.push(o.messages.map(String).join(' ')));
    // A skipped request has no execution in the summary: its skip note is seen as it is emitted
    emitter.on('assertion', (_err: unknown, o: { assertion: string; skipped?: boolean }) => {
      if (o.skipped) skipped.push(o.assertion);
    });
  });
  const executions = summary.run.executions as unknown as { item: { name: string }; response?: unknown }[];
  return {
    failures: summary.run.failures.map((f) => `${f.source?.name}: ${f.error.message}`),
    requests: summary.run.stats.requests.total ?? 0,
    assertions: summary.run.stats.assertions.total ?? 0,
    skipped,
    console: consoleLines,
    sent: executions.filter((e) => e.response !== undefined).map((e) => e.item.name),
  };
}

describe('Postman collection', () => {
  it('runs green with only baseUrl and apiToken set; the case that needs a second token says it was skipped', async () => {
    const run = await runCollection([
      { key: 'baseUrl', value: gw.url },
      { key: 'apiToken', value: alice.token },
    ]);
    expect(run.failures).toEqual([]);
    expect(run.skipped).toEqual(['skipped: set disabledApiToken to run "Disabled token → 401"']);
    expect(run.console.join('\n')).toMatch(/Disabled token → 401: skipped, set disabledApiToken/);
    expect(run.sent).not.toContain('Disabled token → 401');
    expect(run.sent).toContain('Who am I (GET /Api/v6/authorization)');
    expect(run.sent).toContain('Two different tokens → 400');
    expect(run.requests).toBe(10);
    expect(run.assertions).toBe(16);
    // Nothing the collection printed carries the token
    expect(run.console.join('\n')).not.toContain(alice.token);
  });

  it('runs green with every variable set (loginName, disabledApiToken), nothing skipped', async () => {
    const run = await runCollection([
      { key: 'baseUrl', value: gw.url },
      { key: 'loginName', value: alice.login },
      { key: 'apiToken', value: alice.token },
      { key: 'disabledApiToken', value: disabled },
    ]);
    expect(run.failures).toEqual([]);
    expect(run.skipped).toEqual([]);
    expect(run.sent).toContain('Disabled token → 401');
    expect(run.requests).toBe(11);
    expect(run.assertions).toBe(17);
  });
});
