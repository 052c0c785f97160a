// web/page: the restrictions picker (issue 20), used when a token is created and in its "Edit
// restrictions" dialog. Like Stripe's restricted keys: "Everything" by default; restricted, one row
// per resource family with None / Read / Write (write implies read), then the networks the token may
// be used from and the highest REST API version it may call. The server validates and normalizes
// (an unknown permission or a bad CIDR is its 400, shown where the page shows errors).
import { ACCESSES, API_VERSIONS, FAMILIES, FAMILY_WORDS, type Access, type Family, type Permission } from '../../permissions/vocabulary.js';
import type { Restrictions } from './api.js';
import { h } from './dom.js';

/** The REST API versions a ceiling may name. */
const VERSIONS = Array.from({ length: API_VERSIONS.max - API_VERSIONS.min + 1 }, (_, i) => API_VERSIONS.min + i);
const ACCESS_LABEL: Record<Access | 'none', string> = { none: 'None', read: 'Read', write: 'Write' };

export interface Picker {
  element: HTMLElement;
  /** What the controls say: null when nothing is restricted. */
  value(): Restrictions | null;
}

/** The access a token's permissions give one family (they are normalized: one name per family at most). */
function accessOf(permissions: readonly Permission[] | undefined, family: Family): Access | 'none' {
  if (permissions?.includes(`${family}:write`)) return 'write';
  if (permissions?.includes(`${family}:read`)) return 'read';
  return 'none';
}

/** Networks as people type them: one per line, or separated by commas or spaces. */
const networksOf = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/**
 * @param prefix keeps ids and radio names apart when the create form and a dialog are both open
 * @param initial what the token is restricted to now (null: nothing)
 */
export function restrictionsPicker(prefix: string, initial: Restrictions | null): Picker {
  const restricted = initial?.permissions !== undefined;
  const modeName = `${prefix}-perm-mode`;
  const everything = h('input', { type: 'radio', name: modeName, id: `${prefix}-perm-everything`, value: 'everything', checked: !restricted });
  const only = h('input', { type: 'radio', name: modeName, id: `${prefix}-perm-only`, value: 'only', checked: restricted });

  const rows = FAMILIES.map((family) => {
    const labelId = `${prefix}-family-${family}`;
    const now = accessOf(initial?.permissions, family);
    const radios = (['none', ...ACCESSES] as const).map((access) =>
      h(
        'label',
        { class: 'perm-choice' },
        h('input', { type: 'radio', name: `${prefix}-perm-${family}`, value: access, checked: access === now, 'data-family': family }),
        ACCESS_LABEL[access],
      ),
    );
    return h(
      'div',
      { class: 'perm-row', role: 'radiogroup', 'aria-labelledby': labelId, 'aria-describedby': `${labelId}-covers` },
      h('div', { class: 'perm-family' }, h('span', { id: labelId, class: 'perm-label' }, FAMILY_WORDS[family].label), h('span', { id: `${labelId}-covers`, class: 'hint' }, FAMILY_WORDS[family].covers)),
      h('div', { class: 'perm-choices' }, ...radios),
    );
  });
  const table = h('div', { class: 'perm-table', id: `${prefix}-perm-table`, hidden: !restricted }, ...rows);
  const showTable = () => {
    table.hidden = !only.checked;
  };
  everything.addEventListener('change', showTable);
  only.addEventListener('change', showTable);

  const networks = h('textarea', {
    id: `${prefix}-networks`,
    rows: 3,
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: '203.0.113.0/24\n2001:db8::/32',
    'aria-describedby': `${prefix}-networks-hint`,
  });
  networks.value = (initial?.networks ?? []).join('\n');
  const version = h(
    'select',
    { id: `${prefix}-max-version` },
    h('option', { value: '', selected: initial?.maxVersion === undefined }, 'Any version'),
    ...VERSIONS.map((v) => h('option', { value: String(v), selected: initial?.maxVersion === v }, `v${v} and earlier`)),
  );

  const element = h(
    'div',
    { class: 'restrictions' },
    h(
      'fieldset',
      { class: 'perm-mode' },
      h('legend', {}, 'Permissions'),
      h('div', { class: 'switch-row' }, everything, h('label', { for: everything.id }, 'Everything (no restriction)')),
      h('div', { class: 'switch-row' }, only, h('label', { for: only.id }, 'Restrict to the permissions below')),
      table,
    ),
    h('label', { for: networks.id }, 'Allowed networks (optional)'),
    networks,
    h('p', { id: `${prefix}-networks-hint`, class: 'hint' }, 'IPv4 or IPv6 CIDR, one per line or separated by commas. Empty: any address.'),
    h('label', { for: version.id }, 'Highest API version'),
    version,
  );

  return {
    element,
    value() {
      const r: Restrictions = {};
      if (only.checked) {
        r.permissions = FAMILIES.flatMap((family) => {
          const picked = element.querySelector<HTMLInputElement>(`input[data-family="${family}"]:checked`)?.value;
          return picked === 'read' || picked === 'write' ? [`${family}:${picked}` as Permission] : [];
        });
      }
      const list = networksOf(networks.value);
      if (list.length) r.networks = list;
      if (version.value) r.maxVersion = Number(version.value);
      return Object.keys(r).length ? r : null;
    },
  };
}
