// One integration file's world, set up before its tests and torn down after them: a fresh migrated
// store (a SQLite file or a PostgreSQL schema, as the project says), a gateway in this process in
// front of the sample upstream (or of a recording one), the users the tests need, and at the end
// every gateway, connection, Redis key and the store itself gone, in that order.
//
//   const { ts, gw, users: { alice } } = useGateway({ users: { alice: {} } });
//
// useGateway registers its own beforeAll and afterAll, so call it at the top of the file, outside
// any describe. Hooks the file registers after it run after its set-up and before its tear-down
// (vitest's default `sequence.hooks: 'stack'`); one registered before it runs before it (a server
// the gateway's config must name) and is torn down after it.
//
// `ts`, `gw`, `gwStore`, `upstream`, each user and each session are handles: objects that exist
// from the start, empty, and that beforeAll fills in with the real one's properties (accessors
// included), so they can be destructured at the top of a file and used in hooks and tests exactly
// as the `let` variables they replace.
import { afterAll, beforeAll, expect } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { seedOrganization, seedUser, TEST_ACTOR, type SeededUser } from './fixtures.js';
import { startRecordingUpstream, type RecordingUpstream } from './recording-upstream.js';
import { clearRedisPrefix } from './redis-server.js';
import { givePassword, signIn, type SignedIn } from './settings-client.js';
import { startTestGateway, type TestGateway } from './test-gateway.js';
import { createTestStore, type TestStore } from './test-store.js';

type Overrides = Record<string, unknown>;

/** A user to seed (fixtures.ts seedUser: role Integrators and an enabled token unless told otherwise). */
export interface UserSpec {
  /** A label: users with the same label share one organization; without one, a user gets an organization of its own. */
  org?: string;
  roles?: string[];
  enabled?: boolean;
  tokenEnabled?: boolean;
  expiresAt?: string | null;
  /** Organization features turned on for the user's organization, e.g. `OrganizationApiToken`. */
  features?: string[];
  /** A settings password (settings-client.ts PASSWORD). */
  password?: boolean;
  /** Signed in to the settings API of the default gateway, as `sessions[name]`; implies `password`. */
  signIn?: boolean;
}

export interface UseGatewayOptions<T extends Record<string, UserSpec>> {
  /** false: no default gateway (the file starts its own, in-process with `startGateway` or as processes). Default true. */
  gateway?: boolean;
  /** Config tree merged over the test defaults for the default gateway; a function is called once the store exists. */
  overrides?: Overrides | ((ts: TestStore) => Overrides);
  /** What the gateways stand in front of: a fresh sample upstream each (default), or one recording upstream, `upstream`. */
  upstream?: 'sample' | 'recording';
  /** The default gateway on a connection of its own to the store (as another process), `gwStore`; closed at tear-down. */
  ownConnection?: boolean;
  /** Users seeded in this order, after the default gateway has started; their tokens open `secrets`. */
  users?: T;
  /** At tear-down, once every gateway has closed: no string of `secrets` in any line any gateway logged. */
  noSecretsInLogs?: boolean;
  /** A Redis key prefix the file's gateways (or processes) wrote under: its keys are deleted at tear-down. */
  redisPrefix?: string;
}

export interface StartGatewayOptions {
  overrides?: Overrides;
  /** Upstream base URL; default the recording upstream if the file has one, else a fresh sample upstream. */
  upstream?: string;
  /** On a connection of its own to the store (closed at tear-down). */
  ownConnection?: boolean;
}

type SignedInNames<T> = { [K in keyof T]: T[K] extends { signIn: true } ? K : never }[keyof T];

export interface GatewayEnv<T extends Record<string, UserSpec>> {
  /** The store: `ts.store`, `ts.url`, `ts.reopen()`. */
  ts: TestStore;
  /** The default gateway (empty with `gateway: false`). */
  gw: TestGateway;
  /** The store handle the default gateway uses: `ts.store`, or its own connection with `ownConnection`. */
  gwStore: Store;
  /** The recording upstream (with `upstream: 'recording'`). */
  upstream: RecordingUpstream;
  users: { [K in keyof T]: SeededUser };
  sessions: { [K in SignedInNames<T>]: SignedIn };
  /** Every seeded user's token, in seeding order, then whatever the file adds. */
  secrets: string[];
  /** Read inside hooks and tests (getters): the store, the default gateway's URL and its log lines. */
  readonly store: Store;
  readonly url: string;
  readonly logs: string[];
  /** Another gateway on the same store, closed at tear-down. */
  startGateway(opts?: StartGatewayOptions): Promise<TestGateway>;
  /** Another connection to the store (as another process would have), closed at tear-down. */
  reopen(): Store;
}

/** Gives `handle` the properties of `real`, getters and setters as they are. */
function fill<H extends object>(handle: H, real: H): void {
  Object.defineProperties(handle, Object.getOwnPropertyDescriptors(real));
}

export function useGateway<const T extends Record<string, UserSpec> = Record<never, UserSpec>>(
  opts: UseGatewayOptions<T> = {},
): GatewayEnv<T> {
  const specs = Object.entries(opts.users ?? {}) as [keyof T & string, UserSpec][];
  const ts = {} as TestStore;
  const gw = {} as TestGateway;
  const gwStore = {} as Store;
  const upstream = {} as RecordingUpstream;
  const users = Object.fromEntries(specs.map(([name]) => [name, {} as SeededUser])) as GatewayEnv<T>['users'];
  const sessions = Object.fromEntries(specs.filter(([, s]) => s.signIn).map(([name]) => [name, {} as SignedIn])) as GatewayEnv<T>['sessions'];
  const secrets: string[] = [];

  let created: TestStore | undefined;
  let recording: RecordingUpstream | undefined;
  const gateways: TestGateway[] = [];
  const connections: Store[] = [];

  const reopen = (): Store => {
    if (!created) throw new Error('useGateway: the store is opened in beforeAll; reopen() it from a hook or a test');
    const s = created.reopen();
    connections.push(s);
    return s;
  };

  async function start(o: StartGatewayOptions = {}): Promise<{ gateway: TestGateway; store: Store }> {
    if (!created) throw new Error('useGateway: start gateways from a hook or a test, once the store exists');
    const store = o.ownConnection ? reopen() : created.store;
    const gateway = await startTestGateway({ store, storeUrl: created.url, overrides: o.overrides, upstream: o.upstream ?? recording?.url });
    gateways.push(gateway);
    return { gateway, store };
  }

  beforeAll(async () => {
    created = await createTestStore();
    fill(ts, created);
    if (opts.upstream === 'recording') {
      recording = await startRecordingUpstream();
      fill(upstream, recording);
    }
    if (opts.gateway !== false) {
      const overrides = typeof opts.overrides === 'function' ? opts.overrides(created) : opts.overrides;
      const started = await start({ overrides, ownConnection: opts.ownConnection });
      fill(gw, started.gateway);
      fill(gwStore, started.store);
    }
    const orgs = new Map<string, string>();
    const featured = new Set<string>();
    for (const [name, spec] of specs) {
      let org: string | undefined;
      if (spec.org !== undefined) {
        org = orgs.get(spec.org) ?? (await seedOrganization(created.store)).name;
        orgs.set(spec.org, org);
      }
      const user = await seedUser(created.store, { org, roles: spec.roles, enabled: spec.enabled, tokenEnabled: spec.tokenEnabled, expiresAt: spec.expiresAt });
      fill(users[name], user);
      secrets.push(user.token);
      for (const feature of spec.features ?? []) {
        if (featured.has(`${user.org}\n${feature}`)) continue;
        featured.add(`${user.org}\n${feature}`);
        await created.store.admin.setOrganizationFeature(TEST_ACTOR, user.org, feature, true);
      }
    }
    await Promise.all(specs.filter(([, s]) => s.password || s.signIn).map(([name]) => givePassword(created!.store, users[name].userId)));
    for (const [name] of specs.filter(([, s]) => s.signIn)) {
      if (opts.gateway === false) throw new Error(`useGateway: ${name} signs in to the default gateway, and there is none`);
      fill(sessions[name as SignedInNames<T>], await signIn(gw.url, users[name].login));
    }
  });

  afterAll(async () => {
    // Everything is attempted; the first failure is reported once the store is gone.
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (e) {
        failures.push(e);
      }
    };
    for (const g of gateways) await attempt(() => g.close());
    if (recording) await attempt(() => recording!.close());
    for (const c of connections) await attempt(() => c.close());
    if (opts.redisPrefix) await attempt(() => clearRedisPrefix(opts.redisPrefix!));
    if (created) await attempt(() => created!.drop());
    if (failures.length) throw failures[0];
    if (opts.noSecretsInLogs) {
      const logs = gateways.flatMap((g) => g.logs).join('\n');
      for (const s of secrets) expect(logs).not.toContain(s);
    }
  });

  return {
    ts,
    gw,
    gwStore,
    upstream,
    users,
    sessions,
    secrets,
    get store() {
      return ts.store;
    },
    get url() {
      return gw.url;
    },
    get logs() {
      return gw.logs;
    },
    startGateway: async (o) => (await start(o)).gateway,
    reopen,
  };
}
