// `gatehouse client ...` as operators run it: a real child process against the real store.
import { beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/tokens/token-format.js';
import { runCli, runCliJson } from '../helpers/processes.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts } = useGateway({ gateway: false });
let env: Record<string, string>;

beforeAll(() => {
  env = { DATABASE_URL: ts.url, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
});

const ok = (args: string[]) => runCliJson(args, env);

describe('gatehouse client', () => {
  it('register (confidential: gts_ secret once, stored hashed; public: none), list, disable, delete', async () => {
    const conf = await ok(['client', 'register', '--name', 'CRM', '--redirect-uri', 'https://crm.example.test/cb', '--description', 'Our CRM', '--logo', 'https://crm.example.test/logo.png']);
    expect(conf.secret).toMatch(/^gts_[0-9A-Za-z]{36}$/);
    expect(conf).toMatchObject({ name: 'CRM', public: false, enabled: true, redirectUris: ['https://crm.example.test/cb'] });
    const row = await ts.store.db.selectFrom('oauth_clients').selectAll().where('id', '=', conf.id).executeTakeFirstOrThrow();
    expect(row.secret_hash).toBe(hashToken(conf.secret));
    const pub = await ok(['client', 'register', '--name', 'Mobile', '--redirect-uri', 'com.example.app:/cb', '--redirect-uri', 'http://localhost:8765/cb', '--public']);
    expect(pub.secret).toBeUndefined();

    const list = await ok(['client', 'list']);
    expect(list.map((c: { name: string }) => c.name)).toEqual(['CRM', 'Mobile']);
    expect(JSON.stringify(list)).not.toContain(conf.secret);

    expect((await ok(['client', 'disable', '--id', conf.id])).enabled).toBe(false);
    await ok(['client', 'delete', '--id', pub.id]);
    expect((await ok(['client', 'list'])).length).toBe(1);
    const audit = await ts.store.db.selectFrom('audit_events').select('action').where('target_kind', '=', 'oauth_client').orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['oauth.client.register', 'oauth.client.register', 'oauth.client.disable', 'oauth.client.delete']);
  });

  it.each([
    ['a plain-http redirect URI', ['client', 'register', '--name', 'X', '--redirect-uri', 'http://crm.example.test/cb'], /must use https/],
    ['an unknown id', ['client', 'disable', '--id', 'nope'], /not found/],
  ])('refuses %s with exit 2', async (_what, args, message) => {
    const r = await runCli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
