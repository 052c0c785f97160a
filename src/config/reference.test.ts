import { describe, expect, it } from 'vitest';
import { generateReference, readmeReference } from './reference.js';

describe('configuration reference', () => {
  it('in README.md is exactly what the schema generates (run `node dist/config/reference.js --write`)', () => {
    expect(readmeReference()).toBe(generateReference());
  });
  it('documents every key with its environment variable', () => {
    const table = generateReference();
    expect(table).toContain('| `server.port` | `PORT` |');
    expect(table).toContain('| `store.url` | `DATABASE_URL` |');
  });
});
