// web/page: the "API Tokens and Apps" page. Plain TypeScript over the DOM, bundled by esbuild at
// build time. Sign-in / set-password, the user's API tokens (secret shown once; restrictions picked
// at creation and edited later, restrictions.ts), the deprecated organization tokens section and
// Apps and Connections. Every control is labelled and reachable by keyboard; the layout is one
// column at 400 px.
import './settings.css';
import { api, ApiError, whenSessionEnds, type App, type Me, type OrgToken, type OrgTokens, type RollToken, type Token } from './api.js';
import { formatDate, h } from './dom.js';
import { restrictionsPicker } from './restrictions.js';

const main = document.getElementById('main')!;
const whoami = document.getElementById('whoami')!;

let me: Me | undefined;
let tokens: Token[] = [];
let fresh: { name: string; secret: string } | undefined;

function errorBox(id: string) {
  return h('p', { id, class: 'error', role: 'alert', hidden: true });
}
function showError(box: HTMLElement, e: unknown) {
  box.textContent = e instanceof Error ? e.message : 'Something went wrong.';
  box.hidden = false;
}

// --- signed out ---------------------------------------------------------------------------------

function signInView() {
  whoami.replaceChildren();
  const err = errorBox('signin-error');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', { class: 'muted' }, 'Sign in to manage your API tokens and connected apps.'),
    h('label', { for: 'login' }, 'Login name'),
    h('input', { id: 'login', name: 'login', type: 'email', autocomplete: 'username', required: true }),
    h('label', { for: 'password' }, 'Password'),
    h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    err,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    try {
      me = await api.signIn(String(data.get('login')), String(data.get('password')));
      await showSettings();
    } catch (e) {
      showError(err, e);
    }
  });
  main.replaceChildren(form);
  (form.querySelector('#login') as HTMLInputElement).focus();
}

function setPasswordView(linkToken: string) {
  const err = errorBox('setpw-error');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'setpw-title' },
    h('h1', { id: 'setpw-title' }, 'Set your password'),
    h('p', { class: 'muted' }, 'This link works once. Choose a password of at least 8 characters.'),
    h('label', { for: 'new-password' }, 'New password'),
    h('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', minlength: 8, required: true }),
    h('label', { for: 'repeat-password' }, 'Repeat password'),
    h('input', { id: 'repeat-password', type: 'password', autocomplete: 'new-password', minlength: 8, required: true }),
    err,
    h('button', { type: 'submit', class: 'primary' }, 'Set password and sign in'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const pw = (form.querySelector('#new-password') as HTMLInputElement).value;
    if (pw !== (form.querySelector('#repeat-password') as HTMLInputElement).value) return showError(err, new Error('The passwords do not match.'));
    try {
      me = await api.setPassword(linkToken, pw);
      await showSettings();
    } catch (e) {
      showError(err, e);
    }
  });
  main.replaceChildren(form);
  (form.querySelector('#new-password') as HTMLInputElement).focus();
}

// --- signed in ----------------------------------------------------------------------------------

async function showSettings() {
  const [list, org, apps] = await Promise.all([api.tokens(), api.orgTokens(), api.apps()]);
  tokens = list;
  whoami.replaceChildren(
    h('span', {}, `${me!.user.loginName} · ${me!.user.organization.name}`),
    h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out'),
  );
  const parts: (Node | null)[] = [
    h('h1', {}, 'API Tokens and Apps'),
    me!.apiPermission === 'allowed'
      ? null
      : h('p', { class: 'warning', role: 'note' }, 'Your roles do not include the API permission: the gateway refuses your tokens until an administrator grants it.'),
    tokenSection(),
    orgSection(org),
    appsSection(apps),
  ];
  main.replaceChildren(...parts.filter((p): p is Node => p !== null));
  renderTokens();
}

async function signOut() {
  await api.signOut().catch(() => undefined);
  me = undefined;
  signInView();
}

function tokenSection() {
  const err = errorBox('create-error');
  const nameInput = h('input', { id: 'token-name', name: 'name', required: true, maxlength: 100, autocomplete: 'off', placeholder: 'e.g. CRM integration' });
  const expiryInput = h('input', { id: 'token-expiry', name: 'expiry', type: 'date' });
  // A fresh picker each time the form opens: "Everything", no networks, any version.
  let picker = restrictionsPicker('create', null);
  const pickerBox = h('div', { id: 'create-restrictions' }, picker.element);
  const form = h(
    'form',
    { id: 'create-form', class: 'card', hidden: true, 'aria-labelledby': 'create-title' },
    h('h3', { id: 'create-title' }, 'New API token'),
    h('label', { for: 'token-name' }, 'Token name'),
    nameInput,
    h('p', { class: 'hint' }, 'Name it after the integration that will use it, so you recognise it later (1–100 characters).'),
    h('label', { for: 'token-expiry' }, 'Expires on (optional)'),
    expiryInput,
    h('h4', {}, 'What this token may do'),
    pickerBox,
    err,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Create token'),
      h('button', { type: 'button', onclick: () => { form.hidden = true; addButton.focus(); } }, 'Cancel'),
    ),
  );
  const addButton = h('button', {
    type: 'button',
    class: 'primary',
    id: 'add-token',
    onclick: () => {
      if (form.hidden) {
        picker = restrictionsPicker('create', null);
        pickerBox.replaceChildren(picker.element);
      }
      form.hidden = false;
      err.hidden = true;
      nameInput.focus();
    },
  }, 'Add new API Token');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const expiry = expiryInput.value ? new Date(`${expiryInput.value}T23:59:59`).toISOString() : null;
      const created = await api.createToken(nameInput.value, expiry, picker.value());
      tokens = [...tokens, created.token];
      fresh = { name: created.token.name, secret: created.secret };
      form.reset();
      form.hidden = true;
      renderTokens();
      document.getElementById('secret-value')?.focus();
    } catch (e) {
      showError(err, e);
    }
  });
  return h(
    'section',
    { 'aria-labelledby': 'tokens-title' },
    h('h2', { id: 'tokens-title' }, 'API Tokens'),
    h('p', { class: 'muted' }, 'A token lets an integration call the REST and SOAP APIs as you. Treat it like a password.'),
    addButton,
    form,
    h('div', { id: 'fresh-secret' }),
    h('ul', { id: 'token-list', class: 'tokens', 'aria-label': 'Your API tokens' }),
  );
}

function secretPanel(f: { name: string; secret: string }, onDone = () => { fresh = undefined; renderTokens(); document.getElementById('add-token')?.focus(); }) {
  const status = h('span', { role: 'status', class: 'copied' });
  const input = h('input', { id: 'secret-value', readonly: true, value: f.secret, 'aria-label': `Secret of token ${f.name}`, spellcheck: 'false' });
  return h(
    'div',
    { class: 'card secret', role: 'region', 'aria-labelledby': 'secret-title' },
    h('h3', { id: 'secret-title' }, `Your new token “${f.name}”`),
    h('p', { class: 'warning' }, 'Copy this token now. It will not be shown again: Gatehouse keeps only a fingerprint of it.'),
    h(
      'div',
      { class: 'secret-row' },
      input,
      h('button', {
        type: 'button',
        class: 'primary',
        onclick: async () => {
          input.select();
          try {
            await navigator.clipboard.writeText(f.secret);
            status.textContent = 'Copied to the clipboard.';
          } catch {
            status.textContent = 'Copy failed: select the token and copy it yourself.';
          }
        },
      }, 'Copy token'),
      status,
    ),
    h('p', {}, 'The token starts disabled. Turn it on below when your integration is ready.'),
    h('button', { type: 'button', onclick: onDone }, 'Done, I copied it'),
  );
}

function renderTokens() {
  const focused = document.activeElement?.id;
  document.getElementById('fresh-secret')!.replaceChildren(fresh ? secretPanel(fresh) : '');
  const list = document.getElementById('token-list')!;
  list.replaceChildren(
    ...(tokens.length
      ? tokens.map(tokenItem)
      : [h('li', { class: 'empty' }, 'You have no API tokens yet. Add one for each integration, so you can turn them off one by one.')]),
  );
  if (focused) document.getElementById(focused)?.focus();
}

function tokenItem(t: Token) {
  const err = errorBox(`err-${t.id}`);
  const sw = h('input', { type: 'checkbox', role: 'switch', id: `enabled-${t.id}`, checked: t.enabled, 'aria-describedby': `enabled-hint-${t.id}` });
  sw.addEventListener('change', async () => {
    try {
      replace(await api.updateToken(t.id, { enabled: sw.checked }));
    } catch (e) {
      sw.checked = !sw.checked;
      showError(err, e);
    }
  });
  const expired = t.expiresAt !== null && Date.parse(t.expiresAt) <= Date.now();
  return h(
    'li',
    { class: 'card token', 'data-token-id': t.id },
    h('div', { class: 'token-head' }, h('h3', { id: `name-${t.id}` }, t.name), h('code', { class: 'hint-code', 'aria-label': 'Token ends with' }, t.hint)),
    h(
      'div',
      { class: 'switch-row' },
      sw,
      h('label', { for: `enabled-${t.id}` }, t.enabled ? `Enabled: “${t.name}” works` : `Disabled: “${t.name}” is refused`),
      h('span', { id: `enabled-hint-${t.id}`, class: 'hint' }, 'New tokens start disabled.'),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Created'),
      h('dd', {}, formatDate(t.createdAt, '')),
      h('dt', {}, 'Last used'),
      h('dd', {}, t.lastUsedAt ? `${formatDate(t.lastUsedAt, '')}${t.lastUsedIps.length ? ` from ${t.lastUsedIps.map((u) => u.ip).join(', ')}` : t.lastUsedIp ? ` from ${t.lastUsedIp}` : ''}` : 'Never'),
      h('dt', {}, 'Expires'),
      h('dd', { class: expired || t.expiresSoon ? 'error-text' : '' }, t.expiresAt ? `${formatDate(t.expiresAt, '')}${expired ? ' (expired)' : t.expiresSoon ? ' (expires within 7 days)' : ''}` : 'Never'),
      h('dt', {}, 'May do'),
      h('dd', { 'data-restrictions': t.restrictions ? 'restricted' : 'none' }, t.restrictionsText),
    ),
    t.revoked ? h('p', { class: 'error-text', role: 'note' }, 'Revoked: this token was found in public code. Create a new one.') : null,
    err,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', id: `rename-${t.id}`, 'aria-label': `Rename token ${t.name}`, onclick: () => rename(t) }, 'Rename'),
      h('button', { type: 'button', id: `restrict-${t.id}`, 'aria-label': `Edit restrictions of token ${t.name}`, onclick: () => editRestrictions(t) }, 'Edit restrictions'),
      t.revoked ? null : h('button', { type: 'button', id: `roll-${t.id}`, 'aria-label': `Roll token ${t.name}`, onclick: () => roll(t) }, 'Roll'),
      h('button', { type: 'button', id: `delete-${t.id}`, class: 'danger', 'aria-label': `Delete token ${t.name}`, onclick: () => confirmDelete(t) }, 'Delete'),
    ),
  );
}

function replace(t: Token) {
  tokens = tokens.map((x) => (x.id === t.id ? t : x));
  renderTokens();
}

function dialog(title: string, body: Node[], confirmLabel: string, confirmClass: string, onConfirm: (d: HTMLDialogElement, err: HTMLElement) => Promise<void>) {
  const err = errorBox('dialog-error');
  const d = h('dialog', { 'aria-labelledby': 'dialog-title' });
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: 'dialog-title' }, title),
    ...body,
    err,
    // A destructive dialog opens on Cancel, so a stray Enter does not delete anything.
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: confirmClass, value: 'confirm' }, confirmLabel),
      h('button', { type: 'button', autofocus: confirmClass === 'danger', onclick: () => d.close() }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await onConfirm(d, err);
    } catch (e) {
      showError(err, e);
    }
  });
  d.append(form);
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  d.showModal();
  return d;
}

function rename(t: Token) {
  const input = h('input', { id: 'rename-input', value: t.name, required: true, maxlength: 100 });
  dialog(`Rename “${t.name}”`, [h('label', { for: 'rename-input' }, 'New name'), input], 'Save name', 'primary', async (d) => {
    const updated = await api.updateToken(t.id, { name: input.value });
    d.close();
    replace(updated);
    document.getElementById(`rename-${t.id}`)?.focus();
  });
  input.select();
}

// Restrictions: the creation picker again, set to what the token is restricted to now; saving
// replaces them (the gateway follows on its next change-feed poll).
function editRestrictions(t: Token) {
  const picker = restrictionsPicker('edit', t.restrictions);
  dialog(
    `Restrictions of “${t.name}”`,
    [h('p', { class: 'hint' }, `Now: ${t.restrictionsText}. Calls outside the restrictions are refused with 403 TokenRestricted.`), picker.element],
    'Save restrictions',
    'primary',
    async (d) => {
      const updated = await api.restrictToken(t.id, picker.value() ?? {});
      d.close();
      replace(updated);
      document.getElementById(`restrict-${t.id}`)?.focus();
    },
  );
}

// Roll: a new secret for the same token; the old one keeps working until the chosen time.
function roll(t: Token) {
  const select = h(
    'select',
    { id: 'roll-old-expires' },
    h('option', { value: 'now' }, 'now'),
    h('option', { value: '1h' }, 'in 1 hour'),
    h('option', { value: '24h', selected: true }, 'in 24 hours'),
    h('option', { value: '7d' }, 'in 7 days'),
  );
  dialog(
    `Roll token “${t.name}”?`,
    [h('p', {}, 'A new secret is created for this token. Until the time you choose, both the old and the new secret work.'), h('label', { for: 'roll-old-expires' }, 'The old secret stops'), select],
    'Roll token',
    'primary',
    async (d) => {
      const rolled = await api.rollToken(t.id, select.value as RollToken['oldExpires']);
      d.close();
      fresh = { name: rolled.token.name, secret: rolled.secret };
      replace(rolled.token);
      document.getElementById('secret-value')?.focus();
    },
  );
}

function confirmDelete(t: Token) {
  dialog(
    `Delete token “${t.name}”?`,
    [
      h('p', {}, `Every integration that uses “${t.name}” (${t.hint}) stops working at once: its calls will be refused with 401.`),
      h('p', {}, 'This cannot be undone.'),
    ],
    `Delete “${t.name}”`,
    'danger',
    async (d) => {
      await api.deleteToken(t.id);
      d.close();
      tokens = tokens.filter((x) => x.id !== t.id);
      renderTokens();
      document.getElementById('add-token')?.focus();
    },
  );
}

function orgSection(org: OrgTokens) {
  if (!org.section.visible) return null;
  const { enabled, reason, warning } = org.section;
  let orgTokens = org.tokens;
  const list = h('ul', { id: 'org-token-list', class: 'tokens', 'aria-label': 'Organization API tokens' });
  const freshBox = h('div', { id: 'org-fresh-secret' });
  const render = () =>
    list.replaceChildren(...(orgTokens.length ? orgTokens.map(item) : [h('li', { class: 'empty' }, 'No organization tokens.')]));
  const item = (t: OrgToken): Node => {
    const err = errorBox(`org-err-${t.id}`);
    const sw = h('input', { type: 'checkbox', role: 'switch', id: `org-enabled-${t.id}`, checked: t.enabled, disabled: !enabled });
    sw.addEventListener('change', async () => {
      try {
        const updated = await api.updateOrgToken(t.id, sw.checked);
        orgTokens = orgTokens.map((x) => (x.id === t.id ? updated : x));
        render();
        document.getElementById(`org-enabled-${t.id}`)?.focus();
      } catch (e) {
        sw.checked = !sw.checked;
        showError(err, e);
      }
    });
    return h(
      'li',
      { class: 'card token', 'data-org-token-id': t.id },
      h(
        'div',
        { class: 'token-head' },
        h('h3', {}, t.name, t.origin === 'legacy' ? h('span', { class: 'badge', 'data-origin': 'legacy' }, 'Imported') : null),
        h('code', { class: 'hint-code', 'aria-label': 'Token ends with' }, t.hint),
      ),
      h('div', { class: 'switch-row' }, sw, h('label', { for: `org-enabled-${t.id}` }, t.enabled ? `Enabled: “${t.name}” works (REST v1–v5)` : `Disabled: “${t.name}” is refused`)),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t.origin === 'legacy' ? 'Imported' : 'Created'),
        h('dd', {}, formatDate(t.createdAt, '')),
        t.origin === 'legacy' ? h('dt', {}, 'Origin') : null,
        t.origin === 'legacy' ? h('dd', {}, 'The platform’s own organization key, brought over by your operator') : null,
        h('dt', {}, 'Last used'),
        h('dd', {}, t.lastUsedAt ? formatDate(t.lastUsedAt, '') : 'Never'),
      ),
      err,
      h('div', { class: 'actions' }, h('button', {
        type: 'button',
        class: 'danger',
        disabled: !enabled,
        'aria-label': `Delete organization token ${t.name}`,
        onclick: () =>
          dialog(`Delete organization token “${t.name}”?`, [h('p', {}, `Every integration that uses “${t.name}” (${t.hint}) for any user of the organization stops working at once.`)], `Delete “${t.name}”`, 'danger', async (d) => {
            await api.deleteOrgToken(t.id);
            d.close();
            orgTokens = orgTokens.filter((x) => x.id !== t.id);
            render();
            document.getElementById('add-org-token')?.focus();
          }),
      }, 'Delete')),
    );
  };
  const nameInput = h('input', { id: 'org-token-name', required: true, maxlength: 100, autocomplete: 'off' });
  const createErr = errorBox('org-create-error');
  const form = h(
    'form',
    { id: 'org-create-form', class: 'card', hidden: true, 'aria-label': 'New organization token' },
    h('label', { for: 'org-token-name' }, 'Name of the organization token'),
    nameInput,
    createErr,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create organization token'), h('button', { type: 'button', onclick: () => { form.hidden = true; } }, 'Cancel')),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const created = await api.createOrgToken(nameInput.value);
      orgTokens = [...orgTokens, created.token];
      form.reset();
      form.hidden = true;
      render();
      freshBox.replaceChildren(secretPanel({ name: created.token.name, secret: created.secret }, () => { freshBox.replaceChildren(); document.getElementById('add-org-token')?.focus(); }));
    } catch (e) {
      showError(createErr, e);
    }
  });
  render();
  return h(
    'section',
    { 'aria-labelledby': 'org-title', class: enabled ? '' : 'disabled-section', 'aria-disabled': enabled ? undefined : 'true' },
    h('h2', { id: 'org-title' }, 'Organization API Tokens (deprecated)'),
    h('p', { class: 'warning', role: 'note' }, warning),
    reason ? h('p', { class: 'reason' }, reason) : null,
    h('button', { type: 'button', id: 'add-org-token', disabled: !enabled, 'aria-describedby': 'org-note', onclick: () => { form.hidden = false; nameInput.focus(); } }, 'Add organization token'),
    h('p', { id: 'org-note', class: 'hint' }, enabled ? 'Sent as organizationKey together with userLoginName; acts for any user of your organization.' : 'Not available to you.'),
    form,
    freshBox,
    list,
  );
}

const SCOPE_TEXT: Record<string, string> = { api: 'Full API access', 'api:read': 'Read-only API access (GET)' };

function appsSection(apps: App[]) {
  const list = h('ul', { id: 'apps-list', class: 'apps' });
  const empty = h('p', { class: 'empty', id: 'apps-empty' }, 'No apps are connected to your account. When you authorize an application to act for you, it appears here with its scopes, and you can revoke its access.');
  const render = () => {
    empty.hidden = apps.length > 0;
    list.replaceChildren(
      ...apps.map((a) =>
        h(
          'li',
          { class: 'card app', 'data-app': a.id },
          a.logoUrl ? h('img', { src: a.logoUrl, alt: '', width: 32, height: 32, class: 'app-logo' }) : null,
          h('h3', {}, a.name),
          a.description ? h('p', { class: 'muted' }, a.description) : null,
          h('p', {}, 'May: ', h('strong', { class: 'scope-text' }, a.scopeText)),
          h('p', { class: 'hint' }, `Scopes: ${a.scopes.map((s) => SCOPE_TEXT[s] ?? s).join(', ')}`),
          h('p', { class: 'hint' }, `First authorized ${formatDate(a.firstAuthorizedAt, '')} · last used ${formatDate(a.lastUsedAt, 'never')}`),
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              id: `revoke-${a.id}`,
              'aria-label': `Revoke access for ${a.name}`,
              onclick: () =>
                dialog(`Revoke access for “${a.name}”?`, [h('p', {}, `“${a.name}” will no longer be able to act for you: its tokens stop working at once.`)], 'Revoke access', 'danger', async (d) => {
                  await api.revokeApp(a.id);
                  d.close();
                  apps = apps.filter((x) => x.id !== a.id);
                  render();
                  document.getElementById('apps-title')?.focus();
                }),
            },
            'Revoke access',
          ),
        ),
      ),
    );
  };
  render();
  return h('section', { 'aria-labelledby': 'apps-title' }, h('h2', { id: 'apps-title', tabindex: -1 }, 'Apps and Connections'), empty, list);
}

// --- start --------------------------------------------------------------------------------------

async function start() {
  // A set-password link carries its token in the fragment, which is never sent to a server.
  const m = /^#set-password=([\w-]+)$/.exec(location.hash);
  if (m) {
    history.replaceState(null, '', location.pathname);
    return setPasswordView(m[1]!);
  }
  try {
    me = await api.me();
    await showSettings();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signInView();
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : 'The page could not load.'));
  }
}

whenSessionEnds(() => {
  me = undefined;
  fresh = undefined;
  signInView();
  document.getElementById('signin-error')!.textContent = 'Your session has ended; sign in again.';
  document.getElementById('signin-error')!.hidden = false;
});
void start();
