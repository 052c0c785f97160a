import { describe, expect, it } from 'vitest';
import { generateReference, documentedReference } from './reference.js';

describe('configuration reference', () => {
  it('in docs/configuration.md is exactly what the schema generates (run `node dist/config/reference.js --write`)', () => {
    expect(documentedReference()).toBe(generateReference());
  });
  it('documents every key with its environment variable', () => {
    const table = generateReference();
    expect(table).toContain('| `server.port` | `PORT` |');
    expect(table).toContain('| `store.url` | `DATABASE_URL` |');
  });
});
