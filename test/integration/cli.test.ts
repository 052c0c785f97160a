// The `gatehouse` CLI as operators run it: a real child process against the real store, next to a
// running gateway process that must see its changes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/tokens/token-format.js';
import { runCli, runCliJson, startGatewayProcess, type GatewayProcess } from '../helpers/processes.js';
import { useGateway } from '../helpers/use-gateway.js';

// The store only: the gateway here is a process of its own.
const { ts } = useGateway({ gateway: false });
let env: Record<string, string>;
let gateway: GatewayProcess;
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));

beforeAll(async () => {
  env = { DATABASE_URL: ts.url, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
  gateway = await startGatewayProcess({ ...env, LOG_LEVEL: 'info', CHANGE_FEED_POLL_MS: '200' });
});
afterAll(async () => {
  await gateway?.stop();
});

const ok = (args: string[]) => runCliJson(args, env);

describe('the walk-through, against a running gateway process', () => {
  it('org → role → user → token → curl returns the envelope with the caller named', async () => {
    await ok(['org', 'create', '--name', 'Acme']);
    await ok(['role', 'create', '--org', 'Acme', '--name', 'Integrators', '--allow', 'API']);
    const user = await ok(['user', 'create', '--org', 'Acme', '--login', 'alice@acme.test', '--role', 'Integrators']);
    const token = await ok(['token', 'create', '--user', 'alice@acme.test', '--name', 'Integration A', '--enable']);
    expect(token.secret).toMatch(/^gtu_[0-9A-Za-z]{36}$/);
    expect(token.enabled).toBe(true);

    const res = await fetch(`${gateway.url}/Api/v6/envelope/123`, { headers: { apiToken: token.secret } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { EnvelopeId: string; CalledBy: { UserId: string; LoginName: string } };
    expect(body.EnvelopeId).toBe('123');
    expect(body.CalledBy).toMatchObject({ UserId: user.id, LoginName: 'alice@acme.test' });

    // The secret is shown once: listing shows only the hint.
    const list = await ok(['token', 'list', '--user', 'alice@acme.test']);
    expect(JSON.stringify(list)).not.toContain(token.secret);
    expect(list[0].hint).toBe(`gtu_…${token.secret.slice(-4)}`);
  });

  it('a token disabled from the CLI is refused by the running gateway within 2 s', async () => {
    const t = await ok(['token', 'create', '--user', 'alice@acme.test', '--name', 'to-disable', '--enable']);
    const call = () => fetch(`${gateway.url}/Api/v6/envelope/1`, { headers: { Authorization: `Bearer ${t.secret}` } });
    expect((await call()).status).toBe(200);
    await ok(['token', 'disable', '--id', t.id]);
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 2000) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await call()).status;
    }
    expect(status).toBe(401);
    await ok(['token', 'enable', '--id', t.id]);
    await expect.poll(async () => (await call()).status, { timeout: 2000, interval: 50 }).toBe(200);
    await ok(['token', 'delete', '--id', t.id]);
    await expect.poll(async () => (await call()).status, { timeout: 2000, interval: 50 }).toBe(401);
  });

  it('a disabled user is refused, and works again when enabled', async () => {
    const t = await ok(['token', 'create', '--user', 'alice@acme.test', '--name', 'user-state', '--enable']);
    await ok(['user', 'disable', '--login', 'ALICE@acme.test']);
    await expect.poll(async () => (await fetch(`${gateway.url}/Api/v6/envelope/1`, { headers: { apiToken: t.secret } })).status, { timeout: 2000, interval: 50 }).toBe(401);
    await ok(['user', 'enable', '--login', 'alice@acme.test']);
    await expect.poll(async () => (await fetch(`${gateway.url}/Api/v6/envelope/1`, { headers: { apiToken: t.secret } })).status, { timeout: 2000, interval: 50 }).toBe(200);
  });

  it('never logs a secret', () => {
    expect(gateway.output()).toContain('"message":"access"');
    expect(gateway.output()).not.toMatch(/gtu_[0-9A-Za-z]{36}/);
  });
});

describe('legacy token import', () => {
  const legacy = (seed: string) => (seed.repeat(70).toLowerCase().replace(/[^a-z0-9]/g, '') + '0'.repeat(70)).slice(0, 64);

  it('imports all rows, and the imported tokens work at the gateway', async () => {
    await ok(['user', 'create', '--org', 'Acme', '--login', 'bob@acme.test', '--role', 'Integrators']);
    const a = legacy('a1b2');
    const b = (legacy('c3d4') + 'xy').slice(0, 66);
    const file = join(dir, 'good.csv');
    writeFileSync(file, `login,name,token\nbob@acme.test,Old ERP,${a}\nbob@acme.test,"Old CRM, v2",${b}\n`);
    const imported = await ok(['token', 'import-legacy', '--file', file]);
    expect(imported).toHaveLength(2);
    expect(imported[1].name).toBe('Old CRM, v2');
    expect(JSON.stringify(imported)).not.toContain(a);
    for (const t of [a, b]) {
      const res = await fetch(`${gateway.url}/Api/v5/envelope/9`, { headers: { apiToken: t } });
      expect(res.status).toBe(200);
    }
  });

  it.each([
    ['a short token', (ok: string) => `carol@acme.test,Good,${ok}\ncarol@acme.test,Bad,abc123\n`, 'line 2'],
    ['an unknown user', (ok: string) => `carol@acme.test,Good,${ok}\nnobody@acme.test,Bad,${legacy('zz99')}\n`, 'line 2'],
    ['a duplicate name', (ok: string) => `login,name,token\ncarol@acme.test,Same,${ok}\ncarol@acme.test,Same,${legacy('qq77')}\n`, 'line 3'],
    ['a missing column', (ok: string) => `carol@acme.test,Good,${ok}\ncarol@acme.test,Bad\n`, 'line 2'],
  ])('a file with %s imports nothing and names the line', async (_name, content, line) => {
    await runCli(['user', 'create', '--org', 'Acme', '--login', 'carol@acme.test', '--role', 'Integrators'], env);
    const good = legacy('e5f6');
    const file = join(dir, 'bad.csv');
    writeFileSync(file, content(good));
    const r = await runCli(['token', 'import-legacy', '--file', file], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(line);
    expect(r.stderr).not.toContain(good);
    const list = await ok(['token', 'list', '--user', 'carol@acme.test']);
    expect(list).toEqual([]);
    expect((await fetch(`${gateway.url}/Api/v5/envelope/9`, { headers: { apiToken: good } })).status).toBe(401);
  });
});

describe('bad input → message and exit code 2', () => {
  it.each([
    [['frobnicate']],
    [['token', 'create', '--user', 'alice@acme.test']],
    [['token', 'disable']],
    [['role', 'create', '--org', 'Acme', '--name', 'X', '--allow', 'NOPE']],
    [['role', 'create', '--org', 'Acme', '--name', 'Y', '--allow', 'API', '--deny', 'API']],
    [['org', 'create', '--name', 'Acme']],
    [['org', 'create', '--name', '']],
    [['org', 'feature', '--org', 'Acme', 'OrganizationApiToken']],
    [['org', 'feature', '--org', 'Acme', '--enable', 'NoSuchFlag']],
    [['user', 'create', '--org', 'Nope', '--login', 'x@y.test']],
    [['user', 'create', '--org', 'Acme', '--login', 'not-an-email']],
    [['user', 'create', '--org', 'Acme', '--login', 'ALICE@ACME.TEST']],
    [['token', 'create', '--user', 'alice@acme.test', '--name', 'x'.repeat(101)]],
    [['token', 'create', '--user', 'alice@acme.test', '--name', 'Bad date', '--expires', 'tomorrow-ish']],
    [['token', 'enable', '--id', 'no-such-id']],
    [['token', 'import-legacy', '--file', '/no/such/file.csv']],
  ])('gatehouse %j', async (args) => {
    const r = await runCli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().length).toBeGreaterThan(0);
  });

  it('--json errors are JSON too', async () => {
    const r = await runCli(['token', 'enable', '--id', 'missing', '--json'], env);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr)).toEqual({ error: expect.stringContaining('not found') });
  });

  it('refuses a token value given where a name is expected without echoing it', async () => {
    const secret = mintToken('user');
    const r = await runCli(['token', 'enable', '--id', secret], env);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).not.toContain(secret);
  });
});
