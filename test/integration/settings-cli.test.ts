// The settings sign-in paths an operator starts from: `gatehouse user create --password` (password
// on stdin, never argv), `gatehouse user set-password-link`, and the demo user of a first start.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { welcomeOnEmptyStore } from '../../src/settings/first-run.js';
import { sessionStoreFor } from '../../src/settings/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { seedOrganization } from '../helpers/fixtures.js';
import { call, signIn } from '../helpers/settings-client.js';
import { runCli } from '../helpers/processes.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw } = useGateway();

const cli = (args: string[], stdin = '') => runCli(args, { DATABASE_URL: ts.url, NODE_ENV: 'test', PUBLIC_URL: gw.url }, stdin);

describe('the first start on an empty store', () => {
  it('creates a demo user once and prints a one-time link that signs in', async () => {
    const printed: string[] = [];
    const deps = {
      config: { ...gw.config, env: 'development' as const },
      store: ts.store,
      sessions: sessionStoreFor(ts.store, gw.config.settings),
      logger: createLogger({ level: 'silent' }),
      baseUrl: gw.url,
      print: (t: string) => printed.push(t),
    };
    const link = await welcomeOnEmptyStore(deps);
    expect(link).toMatch(new RegExp(`^${gw.url}/settings#set-password=[\\w-]{43}$`));
    expect(printed.join('')).toContain(link);
    expect(await welcomeOnEmptyStore(deps)).toBeUndefined();
    const token = link!.split('#set-password=')[1];
    const res = await call(gw.url, { method: 'POST', template: '/password', body: { token, password: 'demo password' } });
    expect(res.status).toBe(200);
    expect(res.body.user.loginName).toBe('demo@example.test');
  });
});

describe('gatehouse user', () => {
  it('create --password reads the password from stdin; the user can sign in with it', async () => {
    const org = (await seedOrganization(ts.store)).name;
    const out = await cli(['user', 'create', '--org', org, '--login', 'cli-user@example.test', '--role', 'Integrators', '--password'], 'from stdin secret\n');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('with a password');
    expect(out.stdout).not.toContain('from stdin secret');
    await signIn(gw.url, 'cli-user@example.test', 'from stdin secret');
  });

  it('create --password refuses a weak password with exit code 2 and creates nobody', async () => {
    const org = (await seedOrganization(ts.store)).name;
    const out = await cli(['user', 'create', '--org', org, '--login', 'weak@example.test', '--password'], 'short\n');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('password must be at least 8 characters');
    expect(await ts.store.db.selectFrom('users').select('id').where('login_key', '=', 'weak@example.test').executeTakeFirst()).toBeUndefined();
  });

  it('set-password-link prints a one-time link; an unknown login exits 2', async () => {
    const out = await cli(['user', 'set-password-link', '--login', 'CLI-USER@example.test']);
    expect(out.code).toBe(0);
    const token = /#set-password=([\w-]+)/.exec(out.stdout)![1];
    const res = await call(gw.url, { method: 'POST', template: '/password', body: { token, password: 'a second password' } });
    expect(res.status).toBe(200);
    await signIn(gw.url, 'cli-user@example.test', 'a second password');
    const unknown = await cli(['user', 'set-password-link', '--login', 'nobody@example.test']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('user "nobody@example.test" not found');
  });
});
