import { describe, expect, it } from 'vitest';
import { createRouteTable, DOCUMENTED_RESOURCES, isRestPath } from './routes.js';

describe('route table', () => {
  // As config/default.json ships it: template and file split off, everything else to envelope
  const table = createRouteTable({ envelope: 'envelope', template: 'template', templates: 'template', file: 'file', version: 'envelope' });

  it.each([
    ['GET', '/Api/v6/envelope/1', { version: 6, resource: 'envelope', upstream: 'envelope', path: '/Api/v6/envelope/1', isPublic: false }],
    ['GET', '/api/V6/envelope/1', { version: 6, path: '/Api/v6/envelope/1' }],
    ['GET', '/API/v6.0/Envelope/1', { version: 6, resource: 'envelope', path: '/Api/v6/Envelope/1' }],
    ['GET', '/Api/v1/template/x', { version: 1, upstream: 'template' }],
    ['GET', '/Api/v2/TEMPLATES', { resource: 'templates', upstream: 'template', path: '/Api/v2/TEMPLATES' }],
    ['GET', '/Api/v3/version', { isPublic: true }],
    ['HEAD', '/Api/v3.0/version', { isPublic: true, version: 3 }],
    ['POST', '/Api/v3/version', { isPublic: false }],
    ['GET', '/Api/v3/version/x', { isPublic: false }],
    ['GET', '/Api/v3/version/', { isPublic: false }],
    // Resources no config names reach the default upstream
    ['GET', '/Api/v4/authorization', { version: 4, resource: 'authorization', upstream: 'envelope', path: '/Api/v4/authorization', isPublic: false }],
    ['POST', '/Api/v4.0/sspfile/uploadtemporary', { version: 4, resource: 'sspfile', upstream: 'envelope', path: '/Api/v4/sspfile/uploadtemporary' }],
    ['POST', '/Api/v6/draft/create', { resource: 'draft', upstream: 'envelope', path: '/Api/v6/draft/create' }],
    ['GET', '/Api/v6/organization/license', { resource: 'organization', upstream: 'envelope', path: '/Api/v6/organization/license' }],
    ['GET', '/Api/v1/Authorization', { version: 1, resource: 'authorization', path: '/Api/v1/Authorization' }],
    ['GET', '/Api/v6/unknown', { resource: 'other', upstream: 'envelope', path: '/Api/v6/unknown', isPublic: false }],
    ['DELETE', '/Api/v5/Some-Thing_new/1/2', { resource: 'other', path: '/Api/v5/Some-Thing_new/1/2' }],
  ])('%s %s', (method, path, expected) => {
    expect(table(method, path)).toMatchObject(expected);
  });

  it.each(['/Api/v7/envelope/1', '/Api/v0/envelope/1', '/Api/v6.1/envelope/1', '/Api/v7/authorization', '/Api/v6', '/Api/v6/', '/Api/v6.0', '/Api/envelope', '/Api/authorization', '/Apix/v6/envelope', '/settings/api/me'])(
    'no route for %s',
    (path) => expect(table('GET', path)).toBeUndefined(),
  );

  it('every documented resource of every version (and its .0 form) is a route to the default upstream', () => {
    const plain = createRouteTable({});
    for (let v = 1; v <= 6; v++) {
      for (const form of [`v${v}`, `v${v}.0`]) {
        for (const resource of DOCUMENTED_RESOURCES) {
          expect(plain('GET', `/Api/${form}/${resource}/x`)).toMatchObject({ version: v, resource, upstream: 'envelope', path: `/Api/v${v}/${resource}/x`, isPublic: false });
        }
      }
    }
  });

  it('a resource override sends that family, in any case, to another upstream; the rest go to the default', () => {
    const split = createRouteTable({ SspFile: 'file', license: 'template' }, 'template');
    expect(split('POST', '/Api/v4/sspfile/uploadtemporary')).toMatchObject({ resource: 'sspfile', upstream: 'file' });
    expect(split('POST', '/Api/v4/SSPFILE/uploadtemporary')).toMatchObject({ resource: 'sspfile', upstream: 'file' });
    expect(split('GET', '/Api/v6/license')).toMatchObject({ resource: 'license', upstream: 'template' });
    expect(split('GET', '/Api/v6/envelope/1')).toMatchObject({ resource: 'envelope', upstream: 'template' });
    expect(split('GET', '/Api/v6/anything/1')).toMatchObject({ resource: 'other', upstream: 'template' });
    // The public call stays public wherever it is routed
    expect(createRouteTable({ version: 'file' })('GET', '/Api/v6/version')).toMatchObject({ upstream: 'file', isPublic: true });
  });

  it('labels stay a bounded vocabulary whatever clients send', () => {
    const labels = new Set<string>();
    for (let i = 0; i < 200; i++) labels.add(table('GET', `/Api/v6/r${i}/x`)!.resource);
    expect([...labels]).toEqual(['other']);
  });
});

describe('isRestPath', () => {
  it.each([
    ['/Api/v6/envelope', true],
    ['/api/', true],
    ['/API/anything', true],
    ['/Api', false],
    ['/Apix/v6', false],
    ['/api.asmx', false],
  ])('%s → %s', (path, expected) => expect(isRestPath(path)).toBe(expected));
});
