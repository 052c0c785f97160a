import { describe, expect, it } from 'vitest';
import { OriginalRequestConflict, OriginalRequestMissing, originalRequest } from './original-request.js';

const P = '/_gatehouse/auth';

describe('originalRequest: the request an edge asks about', () => {
  it.each<[string, Record<string, string>, string, string, { method: string; uri: string }]>([
    ['nginx auth_request', { 'x-original-uri': '/Api/v6/envelope/1?x=1', 'x-original-method': 'POST' }, P, 'GET', { method: 'POST', uri: '/Api/v6/envelope/1?x=1' }],
    ['ingress-nginx', { 'x-original-url': 'https://api.example.com/Api/v5/envelope/1?x=1', 'x-original-method': 'DELETE' }, P, 'GET', { method: 'DELETE', uri: '/Api/v5/envelope/1?x=1' }],
    ['ingress-nginx with auth-method (both forms agree)', { 'x-original-url': 'http://h/Api/v5/a', 'x-original-uri': '/Api/v5/a', 'x-original-method': 'GET' }, P, 'GET', { method: 'GET', uri: '/Api/v5/a' }],
    ['ingress-nginx, empty Host', { 'x-original-url': 'http:///Api/v5/a' }, P, 'GET', { method: 'GET', uri: '/Api/v5/a' }],
    ['Traefik ForwardAuth', { 'x-forwarded-uri': '/Api/v6/file/x', 'x-forwarded-method': 'PUT' }, P, 'GET', { method: 'PUT', uri: '/Api/v6/file/x' }],
    ['Envoy ext_authz (path prefix, own method)', {}, `${P}/Api/v6/envelope/1?q=%20`, 'PATCH', { method: 'PATCH', uri: '/Api/v6/envelope/1?q=%20' }],
    ['Envoy with a dot segment kept as sent', {}, `${P}/Api/v6/../v5/x`, 'GET', { method: 'GET', uri: '/Api/v6/../v5/x' }],
  ])('%s', (_name, headers, url, method, expected) => {
    expect(originalRequest(headers, url, P, method)).toEqual(expected);
  });

  it('refuses a decision that names no request', () => {
    expect(originalRequest({}, P, P, 'GET')).toBeInstanceOf(OriginalRequestMissing);
    expect(originalRequest({}, `${P}?x=1`, P, 'GET')).toBeInstanceOf(OriginalRequestMissing);
    expect(originalRequest({ 'x-original-url': 'not a url' }, P, P, 'GET')).toBeInstanceOf(OriginalRequestMissing);
    expect(originalRequest({ 'x-original-uri': '' }, P, P, 'GET')).toBeInstanceOf(OriginalRequestMissing);
  });

  // An edge passes the client's headers on too: a second name with another value is a client's
  it.each<[string, Record<string, string>, string]>([
    ['X-Forwarded-Uri beside nginx X-Original-URI', { 'x-original-uri': '/Api/v6/a', 'x-forwarded-uri': '/Api/v5/a' }, P],
    ['X-Original-URI beside ingress-nginx X-Original-URL', { 'x-original-url': 'http://h/Api/v6/a', 'x-original-uri': '/Api/v5/a' }, P],
    ['X-Original-URI beside the Envoy path', { 'x-original-uri': '/Api/v5/a' }, `${P}/Api/v6/a`],
    ['two methods', { 'x-original-uri': '/Api/v6/a', 'x-original-method': 'GET', 'x-forwarded-method': 'DELETE' }, P],
  ])('refuses two different original requests: %s', (_name, headers, url) => {
    expect(originalRequest(headers, url, P, 'GET')).toBeInstanceOf(OriginalRequestConflict);
  });

  it('refuses a method that is not an HTTP token', () => {
    expect(originalRequest({ 'x-original-uri': '/Api/v6/a', 'x-original-method': 'GE T' }, P, P, 'GET')).toBeInstanceOf(OriginalRequestMissing);
  });
});
