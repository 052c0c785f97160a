// cli/: token lifecycle commands (issue 10) — `gatehouse token roll`, `gatehouse org
// set-max-token-lifetime`, and `gatehouse audit` (credential events as JSON lines, one per event,
// filtered by organization, user, token and time range). Bad input exits 2 like every command.
import type { Command } from 'commander';
import type { Store } from '../store/index.js';
import { invalid } from '../store/errors.js';
import { isRollOverlap, MAX_LIFETIME_DAYS, ROLL_OVERLAPS } from '../store/token-lifecycle.js';

export interface LifecycleCliDeps {
  print: (human: string, data: unknown) => void;
  withStore: <T>(fn: (store: Store) => Promise<T>) => Promise<T>;
}

const ACTOR = { actor: 'cli', source: 'cli' };

/** An ISO-8601 date or date-time, normalized; anything else is a usage error (exit 2). */
function isoArg(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw invalid(`${flag} "${value}" is not an ISO-8601 date, e.g. 2026-11-01 or 2026-11-01T12:00:00Z`);
  return new Date(ms).toISOString();
}

export function registerLifecycleCommands(program: Command, { print, withStore }: LifecycleCliDeps): void {
  const token = program.commands.find((c) => c.name() === 'token')!;
  token
    .command('roll')
    .description('new secret for the same token; the old secret keeps working until --old-expires')
    .requiredOption('--id <id>', 'token id')
    .requiredOption('--old-expires <when>', `when the old secret stops: ${Object.keys(ROLL_OVERLAPS).join(', ')}`)
    .action((o: { id: string; oldExpires: string }) => {
      if (!isRollOverlap(o.oldExpires)) throw invalid(`--old-expires must be one of ${Object.keys(ROLL_OVERLAPS).join(', ')}`);
      const overlap = o.oldExpires;
      return withStore(async (s) => {
        const r = await s.lifecycle.rollApiToken(ACTOR, o.id, overlap);
        print(`token ${o.id} rolled; the old secret works until ${r.oldSecretExpiresAt}\n${r.secret}\nCopy it now: it will not be shown again.`, {
          id: o.id,
          hint: r.hint,
          secret: r.secret,
          oldSecretExpiresAt: r.oldSecretExpiresAt,
        });
      });
    });

  const org = program.commands.find((c) => c.name() === 'org')!;
  org
    .command('set-max-token-lifetime')
    .description('longest lifetime a new user token of the organization may have')
    .requiredOption('--org <name>', 'organization name')
    .requiredOption('--days <n|none>', `1 to ${MAX_LIFETIME_DAYS} days, or none for no limit`)
    .action((o: { org: string; days: string }) => {
      const days = o.days === 'none' ? null : /^\d+$/.test(o.days) ? Number(o.days) : NaN;
      if (days !== null && (!Number.isInteger(days) || days < 1 || days > MAX_LIFETIME_DAYS)) throw invalid(`--days must be 1 to ${MAX_LIFETIME_DAYS}, or none`);
      return withStore(async (s) => {
        const r = await s.lifecycle.setMaxTokenLifetime(ACTOR, o.org, days);
        print(`organization "${r.name}": maximum token lifetime ${days === null ? 'none' : `${days} days`}`, r);
      });
    });

  program
    .command('audit')
    .description('credential events as JSON lines, oldest first')
    .option('--org <name>', 'organization name')
    .option('--user <login>', 'events about this user, their tokens, or done by them')
    .option('--token <id>', 'events about this token (user or organization token id)')
    .option('--since <iso-date>', 'from this time (inclusive)')
    .option('--until <iso-date>', 'up to this time (exclusive)')
    .action((o: { org?: string; user?: string; token?: string; since?: string; until?: string }) => {
      const since = isoArg(o.since, '--since');
      const until = isoArg(o.until, '--until');
      return withStore(async (s) => {
        const events = await s.lifecycle.auditEvents({
          organizationId: o.org === undefined ? undefined : await s.lifecycle.organizationId(o.org),
          userId: o.user === undefined ? undefined : await s.lifecycle.userId(o.user),
          tokenId: o.token,
          since,
          until,
        });
        // JSON lines whatever --json says: one event per line, for jq and log shippers.
        process.stdout.write(events.map((e) => JSON.stringify(e) + '\n').join(''));
      });
    });
}
