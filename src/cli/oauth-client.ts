// cli/: `gatehouse client register|list|disable|enable|delete` — OAuth client applications. A
// confidential client's `gts_` secret is printed once, at registration; only its hash is kept.
import type { Command } from 'commander';
import { OAuthStore } from '../store/oauth-store.js';
import type { Store } from '../store/index.js';

export interface OAuthClientCliDeps {
  print: (human: string, data: unknown) => void;
  withStore: <T>(fn: (store: Store) => Promise<T>) => Promise<T>;
}

const ACTOR = { actor: 'cli', source: 'cli' };
const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerOAuthClientCommands(program: Command, { print, withStore }: OAuthClientCliDeps): void {
  const client = program.command('client').description('OAuth client applications');
  const oauth = (s: Store) => new OAuthStore(s.db);

  client
    .command('register')
    .requiredOption('--name <name>', 'the name users see on the consent page (unique)')
    .requiredOption('--redirect-uri <uri>', 'exact redirect URI (repeatable)', collect)
    .option('--public', 'a public client (browser or native app): no secret, PKCE S256 required')
    .option('--description <text>', 'what the application does, shown on the consent page')
    .option('--logo <url>', 'https URL of its logo')
    .action((o: { name: string; redirectUri: string[]; public?: boolean; description?: string; logo?: string }) =>
      withStore(async (s) => {
        const { client: c, secret } = await oauth(s).registerClient(ACTOR, { name: o.name, redirectUris: o.redirectUri, public: !!o.public, description: o.description, logoUrl: o.logo });
        const lines = [`OAuth client "${c.name}" registered (${c.public ? 'public' : 'confidential'})`, `client_id: ${c.id}`];
        if (secret) lines.push(`client_secret: ${secret}`, 'Copy the secret now: it will not be shown again.');
        print(lines.join('\n'), { ...c, ...(secret ? { secret } : {}) });
      }),
    );
  client.command('list').action(() =>
    withStore(async (s) => {
      const list = await oauth(s).listClients();
      const lines = list.map((c) => `${c.id}  ${c.enabled ? 'enabled ' : 'disabled'}  ${c.public ? 'public      ' : 'confidential'}  ${c.name}  ${c.redirectUris.join(' ')}`);
      print(lines.length ? lines.join('\n') : 'no OAuth clients', list);
    }),
  );
  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    client
      .command(name)
      .requiredOption('--id <id>', 'client id (see list)')
      .description(enabled ? 'enable a client' : 'disable a client and revoke every grant it holds')
      .action((o: { id: string }) =>
        withStore(async (s) => {
          const c = await oauth(s).setClientEnabled(ACTOR, o.id, enabled);
          print(`OAuth client "${c.name}" ${enabled ? 'enabled' : 'disabled; its grants are revoked'}`, c);
        }),
      );
  }
  client
    .command('delete')
    .requiredOption('--id <id>', 'client id (see list)')
    .description('delete a client, its grants and tokens')
    .action((o: { id: string }) =>
      withStore(async (s) => {
        await oauth(s).deleteClient(ACTOR, o.id);
        print('OAuth client deleted', { deleted: o.id });
      }),
    );
}
