// cli/: `gatehouse org-token create|list|enable|disable|delete|import-legacy` — organization API
// tokens (deprecated). The operator acts on behalf of a named user (`--as <login>`): the issue lets
// only a user of the organization who holds the API permission (flag on, no role denying it) manage
// them, so the CLI applies that same rule instead of bypassing it; the audit trail names that user,
// with source `cli`. The organization is the acting user's.
// `import-legacy` is the exception: the platform's own organization keys already exist, so the
// operator brings them over for an organization (`--org`), audited as `cli` like `token import-legacy`.
import type { Command } from 'commander';
import { judgeOrgTokenManagement } from '../policy/org-token.js';
import type { Store } from '../store/index.js';
import { OrgTokenAdmin, type OrgTokenView } from '../store/org-token-admin.js';
import { parseLegacyOrgKeyCsv } from './legacy-csv.js';

export interface OrgTokenCliDeps {
  print: (human: string, data: unknown) => void;
  withStore: <T>(fn: (store: Store) => Promise<T>) => Promise<T>;
  /** The file's text; an unreadable file is bad input (exit 2). */
  readInput: (path: string) => string;
}

const listLine = (t: OrgTokenView) => `${t.id}  ${t.hint}  ${t.enabled ? 'enabled ' : 'disabled'}  ${t.name}${t.origin === 'legacy' ? '  (imported)' : ''}`;

const SOURCE = { actor: 'cli', source: 'cli' };
const AS = ['--as <login>', 'login name of the organization user to act as (needs the API permission; flag OrganizationApiToken on)'] as const;
const ID = ['--id <id>', 'organization token id (see list)'] as const;

export function registerOrgTokenCommands(program: Command, { print, withStore, readInput }: OrgTokenCliDeps): void {
  const orgToken = program.command('org-token').description('organization API tokens (deprecated), managed as a user of the organization');
  const admin = (s: Store) => new OrgTokenAdmin(s.db, judgeOrgTokenManagement);

  orgToken
    .command('create')
    .requiredOption(...AS)
    .requiredOption('--name <name>', 'token name (1-100 characters, unique per organization)')
    .option('--enable', 'enable it now (new tokens start disabled)')
    .action((o: { as: string; name: string; enable?: boolean }) =>
      withStore(async (s) => {
        const { token: t, secret } = await admin(s).create(SOURCE, o.as, o.name, { enabled: !!o.enable });
        print(
          `organization token "${t.name}" created (${t.id}), ${t.enabled ? 'enabled' : 'disabled'}\n${secret}\nCopy it now: it will not be shown again. Organization tokens are deprecated: prefer user API tokens.`,
          { ...t, secret },
        );
      }),
    );
  orgToken
    .command('list')
    .requiredOption(...AS)
    .action((o: { as: string }) =>
      withStore(async (s) => {
        const list = await admin(s).list(o.as);
        const lines = list.map(listLine);
        print(lines.length ? lines.join('\n') : 'no organization tokens', list);
      }),
    );
  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    orgToken
      .command(name)
      .requiredOption(...AS)
      .requiredOption(...ID)
      .action((o: { as: string; id: string }) =>
        withStore(async (s) => {
          const t = await admin(s).setEnabled(SOURCE, o.as, o.id, enabled);
          print(`organization token "${t.name}" ${enabled ? 'enabled' : 'disabled'}`, t);
        }),
      );
  }
  orgToken
    .command('delete')
    .requiredOption(...AS)
    .requiredOption(...ID)
    .action((o: { as: string; id: string }) =>
      withStore(async (s) => {
        await admin(s).delete(SOURCE, o.as, o.id);
        print(`organization token ${o.id} deleted`, { id: o.id, deleted: true });
      }),
    );
  orgToken
    .command('import-legacy')
    .description("imports the platform's own organization keys (GUIDs, or 64-66 lower-case letters and digits); all rows or none")
    .requiredOption('--org <name>', 'organization name')
    .requiredOption('--file <csv>', 'CSV file of name,key rows (optional header row)')
    .option('--disabled', 'import them disabled (default: enabled, as they were on the platform)')
    .action((o: { org: string; file: string; disabled?: boolean }) => {
      const rows = parseLegacyOrgKeyCsv(readInput(o.file));
      return withStore(async (s) => {
        const imported = await admin(s).importLegacy(SOURCE, o.org, rows, { enabled: !o.disabled });
        print([`${imported.length} organization keys imported into ${o.org}`, ...imported.map(listLine)].join('\n'), imported);
      });
    });
}
