// cache/: which legacy organization-key forms (a GUID; 64–66 lower-case alphanumerics) the store
// holds at least one imported key of. The organization-key shape check (credentials/org-token.ts)
// asks it, so that while no key of a form is imported, a key of that form is refused as malformed
// with no cache or store look-up: the answer is a field read, never I/O.
// Loaded when the cache tiers open, and reloaded (one small indexed query) when an eviction carries
// `cacheKeys.legacyOrgKeyForms()` — an import, or the deletion of an imported key, appends it to the
// change feed — and whenever L1 is emptied because eviction messages may have been lost.
// /!\ Hot path (has).
import type { LegacyOrgKeyForm } from '../tokens/token-format.js';
import { cacheKeys } from '../store/change-keys.js';

const KEY = cacheKeys.legacyOrgKeyForms();
const ignore = () => {};

export class LegacyOrgKeyForms {
  private known: ReadonlySet<LegacyOrgKeyForm> = new Set();
  private loading: Promise<void> | undefined;
  private again: Promise<void> | undefined;

  constructor(private readonly load: () => Promise<readonly LegacyOrgKeyForm[]>) {}

  /** Whether at least one key of `form` is imported, as of the last reload. No I/O. */
  has(form: LegacyOrgKeyForm): boolean {
    return this.known.has(form);
  }

  /**
   * Reads the forms from the store. A call while a read runs gets a read that starts after that
   * one ends, since the running read may predate the write that asked. On failure the last known
   * forms stay (the caller logs or retries: the change follower retries its whole batch).
   */
  refresh(): Promise<void> {
    if (!this.loading) {
      this.loading = this.load()
        .then((forms) => {
          this.known = new Set(forms);
        })
        .finally(() => {
          this.loading = undefined;
        });
      return this.loading;
    }
    return (this.again ??= this.loading.then(ignore, ignore).then(() => {
      this.again = undefined;
      return this.refresh();
    }));
  }

  /** Evicted cache keys: a reload when the forms' key is among them, otherwise nothing to wait for. */
  evicted(keys: readonly string[]): Promise<void> | undefined {
    return keys.includes(KEY) ? this.refresh() : undefined;
  }
}
