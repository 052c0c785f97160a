// cli/: restricted user API tokens (issue 20) on the command line — the `--allow`, `--network` and
// `--max-version` options that `token create` and `token restrict` share, `token restrict` itself,
// and the restrictions in words for the text output. The store validates what they say
// (permissions/restrictions.ts), so the CLI and the settings API refuse the same input with the
// same message; only what is the command line's own is checked here (a number given as text,
// flags that contradict each other). Bad input exits 2 like every command, and nothing is written.
import type { Command } from 'commander';
import { describeRestrictions, type RestrictionsInput } from '../permissions/restrictions.js';
import { API_VERSIONS, PERMISSIONS } from '../permissions/vocabulary.js';
import { invalid } from '../store/errors.js';
import type { Store } from '../store/index.js';

export interface TokenRestrictionCliDeps {
  print: (human: string, data: unknown) => void;
  withStore: <T>(fn: (store: Store) => Promise<T>) => Promise<T>;
}

/** What commander hands over for the shared options. */
export interface RestrictionFlags {
  allow?: string[];
  network?: string[];
  maxVersion?: string;
}

const ACTOR = { actor: 'cli', source: 'cli' };
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds `--allow`, `--network` and `--max-version` to `cmd`. */
export function addRestrictionOptions(cmd: Command): Command {
  return cmd
    .option('--allow <permission>', `allow only this permission (repeatable; write implies read): ${PERMISSIONS.join(', ')}`, collect)
    .option('--network <cidr>', 'allow calls only from this network, IPv4 or IPv6 CIDR (repeatable)', collect)
    .option('--max-version <n>', `allow REST API versions up to n (${API_VERSIONS.min}-${API_VERSIONS.max}); SOAP is not limited by it`);
}

/** The restrictions the flags give; undefined when none was given (an unrestricted token). */
export function restrictionsFromFlags(o: RestrictionFlags): RestrictionsInput | undefined {
  const input: RestrictionsInput = {};
  if (o.allow) input.permissions = o.allow;
  if (o.network) input.networks = o.network;
  if (o.maxVersion !== undefined) {
    // Checked here rather than by the store so the message names the flag, not the field
    const v = /^\d{1,2}$/.test(o.maxVersion.trim()) ? Number(o.maxVersion) : NaN;
    if (!(v >= API_VERSIONS.min && v <= API_VERSIONS.max)) throw invalid(`--max-version must be a whole number from ${API_VERSIONS.min} to ${API_VERSIONS.max}, not "${o.maxVersion.slice(0, 20)}"`);
    input.maxVersion = v;
  }
  return Object.keys(input).length ? input : undefined;
}

export function registerTokenRestrictCommand(program: Command, { print, withStore }: TokenRestrictionCliDeps): void {
  const token = program.commands.find((c) => c.name() === 'token')!;
  addRestrictionOptions(
    token
      .command('restrict')
      .description(
        "sets the token's whole restriction set to what is given, replacing the one it had (a restriction not given is lifted); --unrestricted lifts them all",
      )
      .requiredOption('--id <id>', 'token id'),
  )
    .option('--unrestricted', 'lift every restriction (not with --allow, --network or --max-version)')
    .action((o: RestrictionFlags & { id: string; unrestricted?: boolean }) => {
      const input = restrictionsFromFlags(o);
      if (o.unrestricted && input) throw invalid('--unrestricted lifts every restriction: it cannot be combined with --allow, --network or --max-version');
      // Nothing given is a mistake, not "unrestricted": lifting restrictions is said out loud
      if (!o.unrestricted && !input) throw invalid('give the restrictions (--allow, --network, --max-version), or --unrestricted to lift them all');
      return withStore(async (s) => {
        const t = await s.admin.restrictApiToken(ACTOR, o.id, input ?? null);
        print(`token "${t.name}" ${t.restrictions ? 'restricted' : 'unrestricted'}; it may: ${describeRestrictions(t.restrictions)}`, t);
      });
    });
}
