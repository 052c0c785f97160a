// A real Redis Cluster of the test's own (3 masters, 3 replicas: test/helpers/redis-topology.ts)
// under gateway instances sharing one store, in the scenarios test/helpers/redis-fleet.ts shares
// with the Sentinel suite (revocations across instances; a master killed under load; the whole
// cluster killed and restarted). What is the Cluster's own: L2 entries of one principal spread
// over the shards and are served to the other instance from there; each write evicts its key on
// its own shard and on the other instance; abuse blocks cross over and the counters are shared;
// the master of the victim's slot is the node killed, and its slots end up on its replica.
import { expect, it } from 'vitest';
import { tokenHint } from '../../src/pipeline/abuse.js';
import { seedUser, TEST_ACTOR, type SeededUser } from '../helpers/fixtures.js';
import { call, nextMessage, status, until, untilStatus } from '../helpers/gateway-pair.js';
import { FLAG, seedOrgTokenOrg, type OrgTokenOrg } from '../helpers/org-token-rule.js';
import { describeRedisFleet, tokenKey } from '../helpers/redis-fleet.js';
import { command, startRedisCluster, type RedisClusterTopology } from '../helpers/redis-topology.js';

let cluster: RedisClusterTopology;

describeRedisFleet({
  title: 'Redis Cluster (3 masters, 3 replicas) under two gateway instances',
  tag: 'cluster',
  async start() {
    cluster = await startRedisCluster();
    return {
      redis: { mode: 'cluster', clusterNodes: cluster.seeds },
      // On the master that owns the slot: any other node would answer MOVED.
      read: async (key) => command((await cluster.ownerOf(key)).port, 'GET', key),
      // A node counts only its own subscribers: summed over every running node.
      async subscribers(channel) {
        let n = 0;
        for (const node of cluster.nodes.filter((x) => x.running)) {
          const [, count] = (await command(node.port, 'PUBSUB', 'NUMSUB', channel)) as [string, number];
          n += Number(count);
        }
        return n;
      },
      killNode: async (key) => cluster.killMaster((await cluster.ownerOf(key)).port),
      // The old master comes back as a replica of the one that took its slots.
      async rejoin(failover) {
        await cluster.process(failover.killed).start();
        await cluster.waitHealthy();
      },
      killAll: () => cluster.killAll(),
      async restartAll() {
        await cluster.startAll();
        await cluster.waitHealthy();
      },
      stop: () => cluster.stop(),
    };
  },
  // Guesses counted per token hint only: every caller here shares 127.0.0.1.
  pair: { abuse: { failuresPerIp: 0, failuresPerToken: 3, windowSeconds: 60, tokenRequestsPerSecond: 0 } },

  channelTests(fleet) {
    it('keys of one principal on three shards: served to the other instance from L2, each write evicts its key on its shard and on the other instance', async () => {
      const { store } = fleet.ts;
      const { a, b } = fleet.quiet;
      const other = await seedUser(store);
      // An organization whose record and Integrators role live on different masters…
      let org: OrgTokenOrg | undefined;
      let roleId = '';
      const owners: Record<string, { slot: number; port: number }> = {};
      for (let i = 0; i < 10 && !org; i++) {
        const o = await seedOrgTokenOrg(store, true, { login: other.login, id: other.userId }, 'cl');
        roleId = (await store.gateway.findUser(o.userIds.enabled!))!.roleIds[0]!;
        owners.org = await cluster.ownerOf(fleet.key(`org:${o.id}`));
        owners.role = await cluster.ownerOf(fleet.key(`role:${roleId}`));
        if (owners.org.port !== owners.role.port) org = o;
      }
      // …and a user of it whose token and user record complete the three masters.
      let user: SeededUser | undefined;
      for (let i = 0; i < 40 && !user; i++) {
        const u = await seedUser(store, { org: org!.name });
        owners.token = await cluster.ownerOf(fleet.key(tokenKey(u)));
        owners.user = await cluster.ownerOf(fleet.key(`user:${u.userId}`));
        if (new Set(Object.values(owners).map((o) => o.port)).size === 3) user = u;
      }
      expect(user, 'a principal whose keys cover the three masters').toBeDefined();
      const u = user!;
      const names: Record<string, string> = { token: tokenKey(u), user: `user:${u.userId}`, role: `role:${roleId}`, org: `org:${org!.id}` };
      const keys = Object.values(names);
      console.log(`[cluster] one principal's keys: ${Object.entries(owners).map(([k, o]) => `${k} slot ${o.slot} on :${o.port}`).join(', ')}`);

      const apiCall = (base: string) => status(base, u.token);
      const orgCall = (base: string) => call(base, { organizationKey: org!.token, userLoginName: u.login }, '/Api/v5/envelope/1');
      // The creations tombstoned these keys for tombstoneMs: once that is over, instance a fills L2.
      await fleet.settled(keys);
      await fleet.cacheInL2(a, [() => apiCall(a.url), () => orgCall(a.url)], keys);
      // Instance b has never seen this principal: both calls are answered from L2, not the store.
      await fleet.servedFromL2(b, () => apiCall(b.url), u.tokenId, keys);
      await fleet.servedFromL2(b, () => orgCall(b.url), org!.tokenId, keys);

      // One write per key; each must reach b's L1 (b refuses) and its shard (the entry is gone).
      const writes: { kind: string; refuse: () => Promise<unknown>; restore: () => Promise<unknown>; check: (base: string) => Promise<number> }[] = [
        {
          kind: 'token',
          refuse: () => store.admin.setApiTokenEnabled(TEST_ACTOR, u.tokenId, false),
          restore: () => store.admin.setApiTokenEnabled(TEST_ACTOR, u.tokenId, true),
          check: apiCall,
        },
        {
          kind: 'user',
          refuse: () => store.admin.setUserEnabled(TEST_ACTOR, u.login, false),
          restore: () => store.admin.setUserEnabled(TEST_ACTOR, u.login, true),
          check: orgCall,
        },
        {
          kind: 'role',
          refuse: () => store.admin.setRolePermission(TEST_ACTOR, org!.name, 'Integrators', 'API', 'deny'),
          restore: () => store.admin.setRolePermission(TEST_ACTOR, org!.name, 'Integrators', 'API', 'allow'),
          check: apiCall,
        },
        {
          kind: 'org',
          refuse: () => store.admin.setOrganizationFeature(TEST_ACTOR, org!.name, FLAG, false),
          restore: () => store.admin.setOrganizationFeature(TEST_ACTOR, org!.name, FLAG, true),
          check: orgCall,
        },
      ];
      const delays: string[] = [];
      for (const w of writes) {
        const name = fleet.key(names[w.kind]!);
        await untilStatus(() => w.check(b.url), 200);
        const before = await fleet.deployment.read(name);
        expect(String(before)).toContain('"value"');
        await w.refuse();
        const committed = performance.now();
        // Far inside the minute b's change feed would take: only the channel can have carried it.
        await until(`b to refuse after the ${w.kind} write`, async () => (await w.check(b.url)) !== 200);
        delays.push(`${w.kind} ${(performance.now() - committed).toFixed(1)} ms`);
        // The old record is gone from its shard (a tombstone, or already the new record).
        expect(await fleet.deployment.read(name)).not.toEqual(before);
        await w.restore();
        await untilStatus(() => w.check(b.url), 200);
      }
      console.log(`[cluster] write through a → refused by b: ${delays.join(', ')} (change feed polled once a minute)`);
    }, 240_000);

    it('an abuse block reached on one instance is enforced by the other; the counters are shared', async () => {
      const { a, b } = fleet.quiet;
      const channel = `${fleet.prefix}abuse`;
      // (a hint is the first 8 and last 4 characters: the number comes first)
      const guess = (n: number) => `${n}-cluster-guess-${'x'.repeat(20)}`;
      const announced = (inst: typeof a, n: number) => nextMessage(inst, channel, (m) => m.includes(`"key":"${tokenHint(guess(n))}"`));
      // Three guesses on a: the third reaches the limit, a blocks and announces the hint.
      const toB = announced(b, 1);
      for (let i = 0; i < 3; i++) await status(a.url, guess(1));
      expect(await status(a.url, guess(1))).toBe(429);
      await toB;
      // b never counted this hint: its first call is refused from the announcement alone.
      expect(await status(b.url, guess(1))).toBe(429);
      // Two guesses on a, one on b: b's reaches the shared counter's limit (RateLimiterRedis on the Cluster).
      const toA = announced(a, 2);
      await status(a.url, guess(2));
      await status(a.url, guess(2));
      await status(b.url, guess(2));
      expect(await status(b.url, guess(2))).toBe(429);
      await toA;
      expect(await status(a.url, guess(2))).toBe(429);
    }, 120_000);
  },

  nodeKilled: {
    title: 'a master killed under load: no valid caller refused, the revoked token refused within the bound, the instances reconnect by themselves',
    role: 'master',
    // Only the instances subscribed on the killed master lost their subscription.
    everyInstanceResubscribes: false,
    async check(_failover, promoted, victimKey) {
      expect((await cluster.ownerOf(victimKey)).port).toBe(promoted);
    },
  },
  wholeTier: {
    title: 'the whole cluster killed and restarted: L2 skipped meanwhile with no client error, evictions resume, L1 emptied on resubscribe',
    what: 'all 6 nodes',
  },
});
