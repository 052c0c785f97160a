#!/usr/bin/env node
// cli/: the `gatehouse` command for operators. It writes to the same store as the gateway; every
// write lands in the change feed, so running gateways see it within one poll interval.
// Bad arguments or input: a message on stderr and exit code 2.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { openStore, StoreError, type Actor, type Store } from '../store/index.js';
import { publishStoreEvictions } from '../cache/eviction-publisher.js';
import { redisConfigured } from '../cache/l2-redis.js';
import { parseLegacyCsv } from './legacy-csv.js';
import { readPassword } from './read-password.js';
import { hashPassword, passwordProblem } from '../settings/password.js';
import { setPasswordLink } from '../settings/first-run.js';
import { sessionStoreFor } from '../settings/index.js';
import { OrgTokenManagementRefused } from '../store/org-token-admin.js';
import { registerOrgTokenCommands } from './org-token.js';
import { registerOAuthClientCommands } from './oauth-client.js';
import { registerLifecycleCommands } from './lifecycle.js';
import { addRestrictionOptions, registerTokenRestrictCommand, restrictionsFromFlags, type RestrictionFlags } from './token-restrictions.js';
import { describeRestrictions } from '../permissions/restrictions.js';

const ACTOR: Actor = { actor: 'cli', source: 'cli' };
const EXIT_USAGE = 2;
/** The acting user may not do this (organization-token management rule). */
const EXIT_REFUSED = 3;

class UsageError extends Error {}

type Printer = (human: string, data: unknown) => void;

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = openStore(config.store.url);
  // With Redis configured, instances evict at once; without, within one change-feed poll.
  const evictions = redisConfigured(config.redis) ? publishStoreEvictions(store, config.redis) : undefined;
  try {
    await store.migrate();
    return await fn(store);
  } finally {
    await evictions?.close();
    await store.close();
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** An import file's text; unreadable → bad input (exit 2). */
function readInput(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function buildProgram(print: Printer): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse operator commands')
    .option('--json', 'print JSON instead of text')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('migrate')
    .description('apply pending store migrations')
    .action(() =>
      withStore(async (s) => print(`migrations applied: ${(await s.migrate()).length === 0 ? 'none pending' : 'done'}`, { ok: true })),
    );

  const org = program.command('org').description('organizations');
  org
    .command('create')
    .requiredOption('--name <name>', 'organization name')
    .action((o: { name: string }) =>
      withStore(async (s) => {
        const created = await s.admin.createOrganization(ACTOR, o.name);
        print(`organization ${created.name} created (${created.id})`, created);
      }),
    );
  org
    .command('feature')
    .argument('<flag>', 'feature flag, e.g. OrganizationApiToken')
    .requiredOption('--org <name>', 'organization name')
    .option('--enable', 'turn the flag on')
    .option('--disable', 'turn the flag off')
    .action((flag: string, o: { org: string; enable?: boolean; disable?: boolean }) => {
      if (!!o.enable === !!o.disable) throw new UsageError('give exactly one of --enable or --disable');
      return withStore(async (s) => {
        const updated = await s.admin.setOrganizationFeature(ACTOR, o.org, flag, !!o.enable);
        print(`${updated.name}: feature flags [${updated.featureFlags.join(', ')}]`, updated);
      });
    });

  program
    .command('role')
    .description('roles')
    .command('create')
    .requiredOption('--org <name>', 'organization name')
    .requiredOption('--name <name>', 'role name')
    .option('--allow <permission>', 'allow a permission (repeatable)', collect, [])
    .option('--deny <permission>', 'deny a permission (repeatable; a deny wins over any allow)', collect, [])
    .action((o: { org: string; name: string; allow: string[]; deny: string[] }) =>
      withStore(async (s) => {
        const role = await s.admin.createRole(ACTOR, o.org, o.name, o.allow, o.deny);
        print(`role ${role.name} created (allow: ${role.allow.join(',') || '-'}; deny: ${role.deny.join(',') || '-'})`, role);
      }),
    );

  const user = program.command('user').description('users');
  user
    .command('create')
    .requiredOption('--org <name>', 'organization name')
    .requiredOption('--login <login>', 'login name (an e-mail address)')
    .option('--role <name>', 'role to assign (repeatable)', collect, [])
    .option('--password', 'set a password for the settings page, read from stdin or a prompt (never from argv)')
    .action(async (o: { org: string; login: string; role: string[]; password?: boolean }) => {
      let passwordHash: string | null = null;
      if (o.password) {
        const password = await readPassword().catch((e: Error) => {
          throw new UsageError(e.message);
        });
        const problem = passwordProblem(password);
        if (problem) throw new UsageError(problem);
        passwordHash = await hashPassword(password);
      }
      return withStore(async (s) => {
        const created = await s.admin.createUser(ACTOR, o.org, o.login, o.role, passwordHash);
        print(`user ${created.loginName} created (${created.id})${passwordHash ? ' with a password' : ''}`, created);
      });
    });
  user
    .command('set-password-link')
    .description('print a one-time link with which the user sets a password for the settings page')
    .requiredOption('--login <login>', 'login name')
    .action((o: { login: string }) =>
      withStore(async (s) => {
        const config = loadConfig();
        const found = await s.db.selectFrom('users').select('id').where('login_key', '=', o.login.trim().toLowerCase()).executeTakeFirst();
        if (!found) throw new UsageError(`user "${o.login}" not found`);
        const { token, expiresAt } = await sessionStoreFor(s, config.settings).createPasswordLink(found.id);
        const base = config.server.publicUrl || `http://localhost:${config.server.port}`;
        const link = setPasswordLink(base, token);
        print(`${link}\nOne-time link for ${o.login}, valid until ${expiresAt}.`, { login: o.login, link, expiresAt });
      }),
    );
  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    user
      .command(name)
      .requiredOption('--login <login>', 'login name')
      .action((o: { login: string }) =>
        withStore(async (s) => {
          const updated = await s.admin.setUserEnabled(ACTOR, o.login, enabled);
          print(`user ${updated.loginName} ${enabled ? 'enabled' : 'disabled'}`, updated);
        }),
      );
  }
  user
    .command('assign-role')
    .requiredOption('--login <login>', 'login name')
    .requiredOption('--role <name>', 'role name')
    .option('--remove', 'remove the role instead')
    .action((o: { login: string; role: string; remove?: boolean }) =>
      withStore(async (s) => {
        const r = await s.admin.assignRole(ACTOR, o.login, o.role, !o.remove);
        print(`user ${r.loginName}: role ${r.role} ${r.assigned ? 'assigned' : 'removed'}`, r);
      }),
    );

  const token = program.command('token').description("users' API tokens");
  addRestrictionOptions(
    token
      .command('create')
      .requiredOption('--user <login>', 'login name of the token owner')
      .requiredOption('--name <name>', 'token name (1-100 characters, unique per user)')
      .option('--enable', 'enable it now (new tokens start disabled)')
      .addOption(new Option('--expires <iso-date>', 'expiry, e.g. 2027-01-31T00:00:00Z')),
  ).action((o: RestrictionFlags & { user: string; name: string; enable?: boolean; expires?: string }) => {
    const restrictions = restrictionsFromFlags(o);
    return withStore(async (s) => {
      const { token: t, secret } = await s.admin.createApiToken(ACTOR, o.user, o.name, { enabled: !!o.enable, expiresAt: o.expires ?? null, restrictions });
      const restricted = t.restrictions ? `; it may: ${describeRestrictions(t.restrictions)}` : '';
      print(
        `token "${t.name}" created (${t.id}), ${t.enabled ? 'enabled' : 'disabled'}${restricted}\n${secret}\nCopy it now: it will not be shown again.`,
        { ...t, secret },
      );
    });
  });
  token
    .command('list')
    .requiredOption('--user <login>', 'login name')
    .action((o: { user: string }) =>
      withStore(async (s) => {
        const list = await s.admin.listApiTokens(o.user);
        // The restrictions on a line of their own: in words they are too long to share one
        const lines = list.map(
          (t) => `${t.id}  ${t.hint}  ${t.enabled ? 'enabled ' : 'disabled'}  ${t.name}${t.expiresAt ? `  expires ${t.expiresAt}` : ''}\n    may: ${describeRestrictions(t.restrictions)}`,
        );
        print(lines.length ? lines.join('\n') : 'no tokens', list);
      }),
    );
  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    token
      .command(name)
      .requiredOption('--id <id>', 'token id')
      .action((o: { id: string }) =>
        withStore(async (s) => {
          const t = await s.admin.setApiTokenEnabled(ACTOR, o.id, enabled);
          print(`token "${t.name}" ${enabled ? 'enabled' : 'disabled'}`, t);
        }),
      );
  }
  token
    .command('delete')
    .requiredOption('--id <id>', 'token id')
    .action((o: { id: string }) =>
      withStore(async (s) => {
        await s.admin.deleteApiToken(ACTOR, o.id);
        print(`token ${o.id} deleted`, { id: o.id, deleted: true });
      }),
    );
  token
    .command('import-legacy')
    .requiredOption('--file <csv>', 'CSV file of login,name,token rows')
    .option('--disabled', 'import them disabled (default: enabled, as they were on the platform)')
    .action((o: { file: string; disabled?: boolean }) => {
      const rows = parseLegacyCsv(readInput(o.file));
      return withStore(async (s) => {
        const imported = await s.admin.importLegacyTokens(ACTOR, rows, !o.disabled);
        print(`${imported.length} legacy tokens imported`, imported);
      });
    });

  registerOrgTokenCommands(program, { print, withStore, readInput });
  registerOAuthClientCommands(program, { print, withStore });
  registerLifecycleCommands(program, { print, withStore });
  registerTokenRestrictCommand(program, { print, withStore });

  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const print: Printer = (human, data) => process.stdout.write(json ? JSON.stringify(data) + '\n' : human + '\n');
  const fail = (message: string, code: number) => {
    process.stderr.write(json ? JSON.stringify({ error: message }) + '\n' : `gatehouse: ${message}\n`);
    return code;
  };
  const program = buildProgram(print);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander already printed its message (and help where it helps).
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof UsageError || e instanceof ConfigError) return fail(e.message, EXIT_USAGE);
    if (e instanceof StoreError) return fail(e.message, EXIT_USAGE);
    if (e instanceof OrgTokenManagementRefused) {
      process.stderr.write(json ? JSON.stringify({ error: e.message, reason: e.reason }) + '\n' : `gatehouse: ${e.message}\n`);
      return EXIT_REFUSED;
    }
    return fail(`failed: ${(e as Error).message}`, 1);
  }
}

runCli(process.argv.slice(2)).then((code) => process.exit(code));
