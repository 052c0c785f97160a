import { describe, expect, it } from 'vitest';
import { normalizePath } from './normalize-path.js';

describe('normalizePath', () => {
  it.each([
    ['/Api/v6/envelope/123', '/Api/v6/envelope/123'],
    ['/Api/v6/envelope/123?x=1', '/Api/v6/envelope/123'],
    ['/Api/v6/../v5/envelope/1', '/Api/v5/envelope/1'],
    ['/Api/v6/%2e%2e/v5/envelope/1', '/Api/v5/envelope/1'],
    ['/Api/v6/%2E%2e/v5/envelope/1', '/Api/v5/envelope/1'],
    ['/Api/v6/.%2e/v5/envelope/1', '/Api/v5/envelope/1'],
    ['/Api/v6/./envelope/1', '/Api/v6/envelope/1'],
    ['//Api///v6//envelope/1', '/Api/v6/envelope/1'],
    ['/Api/v6/envelope/%61bc', '/Api/v6/envelope/abc'],
    ['/Api/v6/envelope/a%20b', '/Api/v6/envelope/a%20b'],
    ['/Api/v6/envelope/a%3fb', '/Api/v6/envelope/a%3Fb'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/Api/v6/envelope/..', '/Api/v6/'],
  ])('%s → %s', (raw, expected) => {
    expect(normalizePath(raw)).toMatchObject({ ok: true, path: expected });
  });

  it.each([
    '/Api/v6/envelope%2f..%2f..%2fadmin',
    '/Api/v6/envelope%2F1',
    '/Api/v6/envelope\\..\\v5',
    '/Api/v6/%5c../v5',
    '/Api/v6/envelope/%00',
    '/Api/v6/envelope/%zz',
    '/Api/v6/envelope/%4',
    'Api/v6/envelope',
    // path parameters, which Tomcat/Spring-style upstreams strip before resolving dot segments
    '/Api/v5/envelope/..;/..;/v6/envelope/1',
    '/Api/v5/envelope;jsessionid=x/1',
    '/Api/v5/envelope/..%3b/v6/envelope/1',
    // an encoded %, which an upstream that decodes once more reads as an escape
    '/Api/v5/envelope/%252e%252e/%252e%252e/v6/envelope/1',
    '/Api/v5/envelope/%25%32%65',
  ])('refuses %s', (raw) => {
    expect(normalizePath(raw)).toEqual({ ok: false });
  });
});
