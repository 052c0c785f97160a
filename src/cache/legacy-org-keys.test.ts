// LegacyOrgKeyForms: reloads only on its own key, a reload asked during a read gets a later read,
// and a failed reload keeps the last known forms.
import { describe, expect, it } from 'vitest';
import type { LegacyOrgKeyForm } from '../tokens/token-format.js';
import { cacheKeys } from '../store/change-keys.js';
import { LegacyOrgKeyForms } from './legacy-org-keys.js';

/** A store whose answers the test releases one by one. */
function controlledStore() {
  const pending: { resolve: (f: LegacyOrgKeyForm[]) => void; reject: (e: Error) => void }[] = [];
  const load = () => new Promise<LegacyOrgKeyForm[]>((resolve, reject) => pending.push({ resolve, reject }));
  return { pending, forms: new LegacyOrgKeyForms(load) };
}

describe('LegacyOrgKeyForms', () => {
  it('knows nothing until loaded, then exactly what the store said', async () => {
    const { pending, forms } = controlledStore();
    expect(forms.has('guid')).toBe(false);
    const done = forms.refresh();
    pending[0]!.resolve(['guid']);
    await done;
    expect([forms.has('guid'), forms.has('token')]).toEqual([true, false]);
  });

  it('reloads only when its key is among the evicted ones', async () => {
    const { pending, forms } = controlledStore();
    expect(forms.evicted([cacheKeys.orgToken('abc'), cacheKeys.user('1')])).toBeUndefined();
    expect(pending).toHaveLength(0);
    const done = forms.evicted([cacheKeys.orgToken('abc'), cacheKeys.legacyOrgKeyForms()]);
    expect(pending).toHaveLength(1);
    pending[0]!.resolve(['token']);
    await done;
    expect(forms.has('token')).toBe(true);
  });

  it('a reload asked while a read runs waits for a read that starts after it (the first may predate the write)', async () => {
    const { pending, forms } = controlledStore();
    const first = forms.refresh();
    const second = forms.refresh();
    const third = forms.refresh();
    expect(pending).toHaveLength(1);
    pending[0]!.resolve([]);
    await first;
    await new Promise((r) => setImmediate(r));
    expect(pending).toHaveLength(2); // one more read for both later callers
    pending[1]!.resolve(['guid']);
    await Promise.all([second, third]);
    expect(forms.has('guid')).toBe(true);
  });

  it('a failed read rejects and keeps the last known forms', async () => {
    const { pending, forms } = controlledStore();
    const ok = forms.refresh();
    pending[0]!.resolve(['guid', 'token']);
    await ok;
    const failed = forms.refresh();
    pending[1]!.reject(new Error('store down'));
    await expect(failed).rejects.toThrow('store down');
    expect([forms.has('guid'), forms.has('token')]).toEqual([true, true]);
  });
});
