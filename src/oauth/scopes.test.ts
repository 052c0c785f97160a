// The requested scopes (scopes.ts): the vocabulary's names only, one normal form, and the inclusion
// a refresh is held to — `api` covers everything, write covers read, nothing covers an unknown name.
import { describe, expect, it } from 'vitest';
import { normalizeScope, scopeIncludes } from './scopes.js';

describe('normalizeScope', () => {
  it('keeps each known name once, sorted', () => {
    expect(normalizeScope('api')).toBe('api');
    expect(normalizeScope('template:write envelope:read  envelope:read')).toBe('envelope:read template:write');
    expect(normalizeScope('envelope:read api:read')).toBe('api:read envelope:read');
  });

  it('refuses an empty scope and any name outside the vocabulary', () => {
    for (const s of ['', ' ', 'envelope:admin', 'api envelope:admin', 'Envelope:read', 'envelope', 'api:write', 'constructor', 'envelope:read\tapi']) {
      expect(normalizeScope(s), s).toBeUndefined();
    }
  });
});

describe('scopeIncludes', () => {
  it('a scope includes itself, and api includes everything', () => {
    expect(scopeIncludes('api', 'api')).toBe(true);
    expect(scopeIncludes('api', 'api:read')).toBe(true);
    expect(scopeIncludes('api:read', 'api:read')).toBe(true);
    expect(scopeIncludes('api api:read', 'api:read')).toBe(true);
    expect(scopeIncludes('api', 'envelope:write template:read')).toBe(true);
  });

  it('write includes read, api:read includes every read, and neither includes a write', () => {
    expect(scopeIncludes('envelope:write', 'envelope:read')).toBe(true);
    expect(scopeIncludes('envelope:write template:read', 'template:read')).toBe(true);
    expect(scopeIncludes('api:read', 'envelope:read template:read')).toBe(true);
    expect(scopeIncludes('api:read envelope:write', 'api:read')).toBe(true);
    expect(scopeIncludes('api:read', 'envelope:write')).toBe(false);
    expect(scopeIncludes('envelope:read', 'envelope:write')).toBe(false);
    expect(scopeIncludes('envelope:write', 'template:read')).toBe(false);
    expect(scopeIncludes('envelope:read', 'api:read')).toBe(false);
  });

  it('only api includes api (it covers calls outside the vocabulary), and unknown scopes are included by nothing', () => {
    expect(scopeIncludes('api:read', 'api')).toBe(false);
    expect(scopeIncludes('envelope:write template:write draft:write file:write organization:write user:write', 'api')).toBe(false);
    expect(scopeIncludes('api', 'api:write')).toBe(false);
    expect(scopeIncludes('api', '')).toBe(false);
    expect(scopeIncludes('api', 'constructor')).toBe(false);
    expect(scopeIncludes('constructor', 'api:read')).toBe(false);
  });
});
