// Start-up configuration: a bad value stops the process with exit code 2 and a message naming the key.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseConfig, readEnv, ConfigError } from '../../src/config/load.js';
import { ROOT } from '../helpers/processes.js';

function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${ROOT}dist/main.js`], { env: { ...process.env, ...env }, cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stderr });
    });
  });
}

describe('configuration', () => {
  it.each([
    [{ PORT: 'eighty' }, 'server.port'],
    [{ PORT: '70000' }, 'server.port'],
    [{ DATABASE_URL: 'mysql://x' }, 'store.url'],
    [{ UPSTREAM_ENVELOPE_URL: 'not a url' }, 'upstreams.envelope'],
    [{ LOG_LEVEL: 'loud' }, 'log.level'],
    [{ IDENTITY_SECRET: 'short' }, 'identity.secret'],
    [{ NODE_ENV: 'production', IDENTITY_SECRET: '' }, 'identity.secret'],
    [{ NODE_ENV: 'production', IDENTITY_SECRET: 'x'.repeat(40) }, 'upstreams.envelope'],
    [{ WORKERS: 'many' }, 'server.workers'],
    [{ WORKERS: '2', IDENTITY_SECRET: '' }, 'identity.secret'],
    [{ WORKERS: '2', IDENTITY_SECRET: 'x'.repeat(40) }, 'oauth.signingKeyFile'],
  ])('%j stops start-up with exit 2 naming %s', async (env, key) => {
    const r = await start({ DATABASE_URL: 'sqlite::memory:', ...env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(key);
  });

  it('a bad config file is named', async () => {
    const r = await start({ GATEHOUSE_CONFIG: '/no/such/config.json' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/no/such/config.json');
  });

  it('does not echo secret values in its messages', () => {
    const secret = 'postgres://admin:hunter2-very-secret@db/x';
    try {
      parseConfig(readEnv({ NODE_ENV: 'production', DATABASE_URL: secret, IDENTITY_SECRET: 'tiny-but-secret' }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).not.toContain('hunter2');
      expect((e as Error).message).not.toContain('tiny-but-secret');
    }
  });

  it('environment overrides files; UPSTREAM_URL sets every upstream', () => {
    const cfg = parseConfig(readEnv({ PORT: '9999', UPSTREAM_URL: 'http://up:1', UPSTREAM_FILE_URL: 'http://files:2' }));
    expect(cfg.server.port).toBe(9999);
    expect(cfg.upstreams).toEqual({ envelope: 'http://up:1', template: 'http://up:1', file: 'http://files:2' });
  });
});
