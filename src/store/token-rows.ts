// store/: a new row of either token table (api_tokens, org_api_tokens) starts the same way — a
// fresh id, the secret's hash and hint, never used yet; each table adds whom the token belongs to.
import { randomUUID } from 'node:crypto';
import type { WriteContext } from './write-context.js';

export interface NewToken<Origin extends string> {
  name: string;
  /** SHA-256 of the secret (tokens/token-format.ts hashToken); the secret itself is never stored. */
  hash: string;
  hint: string;
  origin: Origin;
  enabled: boolean;
}

/** The columns both token tables share, for a token created now. */
export function newTokenRow<Origin extends string>(w: WriteContext, t: NewToken<Origin>) {
  return {
    id: randomUUID(),
    name: t.name,
    token_hash: t.hash,
    hint: t.hint,
    origin: t.origin,
    enabled: t.enabled ? 1 : 0,
    created_at: w.now(),
    last_used_at: null,
    last_used_ip: null,
  };
}
