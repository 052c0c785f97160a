import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

const base = { NODE_ENV: 'test' };

describe('forwardAuth configuration', () => {
  it('is off by default, at /_gatehouse/auth, judging on the original URI', () => {
    expect(loadConfig(base).forwardAuth).toEqual({ enabled: false, path: '/_gatehouse/auth', edges: [], edgeForwards: 'original' });
  });

  it('reads the environment: a boolean, a comma-separated list of edges', () => {
    const c = loadConfig({ ...base, FORWARD_AUTH_ENABLED: 'true', FORWARD_AUTH_EDGES: '10.0.0.0/8, 127.0.0.1,loopback', FORWARD_AUTH_PATH: '/edge/decide', FORWARD_AUTH_EDGE_FORWARDS: 'judged' });
    expect(c.forwardAuth).toEqual({ enabled: true, path: '/edge/decide', edges: ['10.0.0.0/8', '127.0.0.1', 'loopback'], edgeForwards: 'judged' });
    expect(loadConfig({ ...base, FORWARD_AUTH_ENABLED: 'false' }).forwardAuth.enabled).toBe(false);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['on without an edge', { enabled: true }, /forwardAuth\.edges: needs at least one edge/],
    ['an edge that is not an address', { enabled: true, edges: ['10.0.0.0/99'] }, /forwardAuth\.edges/],
    ['a path under the REST API', { path: '/Api/auth' }, /forwardAuth\.path/],
    ['the SOAP path', { path: '/api.asmx' }, /forwardAuth\.path/],
    ['a path above /healthz', { path: '/healthz' }, /forwardAuth\.path/],
    ['the settings', { path: '/settings/auth' }, /forwardAuth\.path/],
    ['a trailing slash', { path: '/_gatehouse/auth/' }, /forwardAuth\.path/],
    ['not a boolean', { enabled: 'yes' }, /forwardAuth\.enabled/],
  ])('refuses %s', (_name, forwardAuth, message) => {
    expect(() => loadConfig(base, { forwardAuth: { ...loadConfig(base).forwardAuth, ...forwardAuth } })).toThrow(message);
  });
});
