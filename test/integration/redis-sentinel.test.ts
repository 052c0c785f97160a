// A real Sentinel group of the test's own (a primary, its replica, 3 Sentinels:
// test/helpers/redis-topology.ts) under gateway instances sharing one store, in the scenarios
// test/helpers/redis-fleet.ts shares with the Cluster suite (revocations across instances; a data
// node killed under load; the whole tier killed and restarted). What is Sentinel's own: L2
// entries written by one instance are on the primary, replicated, and served to the other; the
// node killed is the primary, the Sentinels promote the replica, and every instance — all were
// subscribed on the primary — finds the new one and resubscribes by itself.
import { it } from 'vitest';
import { seedUser } from '../helpers/fixtures.js';
import { status, until } from '../helpers/gateway-pair.js';
import { describeRedisFleet, tokenKey } from '../helpers/redis-fleet.js';
import { command, startRedisSentinel, type RedisSentinelTopology } from '../helpers/redis-topology.js';

let group: RedisSentinelTopology;

describeRedisFleet({
  title: 'Redis Sentinel (primary, replica, 3 Sentinels) under two gateway instances',
  tag: 'sentinel',
  async start() {
    group = await startRedisSentinel();
    return {
      redis: { mode: 'sentinel', sentinels: group.sentinels, sentinelName: group.name },
      read: async (key) => command(await group.primary(), 'GET', key),
      async subscribers(channel) {
        const [, count] = (await command(await group.primary(), 'PUBSUB', 'NUMSUB', channel)) as [string, number];
        return Number(count);
      },
      killNode: () => group.killPrimary(),
      // The old primary comes back as a replica of the new one.
      async rejoin(failover) {
        await group.rejoinAsReplica(failover.killed);
        await group.waitHealthy({ replica: false });
      },
      killAll: () => group.killAll(),
      async restartAll() {
        await group.startAll();
        await group.waitHealthy({ replica: false });
      },
      stop: () => group.stop(),
    };
  },

  channelTests(fleet) {
    it('what one instance read is served to the other from L2, on the primary and replicated', async () => {
      const { a, b } = fleet.quiet;
      const u = await seedUser(fleet.ts.store);
      const keys = [tokenKey(u), `user:${u.userId}`];
      await fleet.settled(keys);
      await fleet.cacheInL2(a, [() => status(a.url, u.token)], keys);
      const primary = await group.primary();
      const replica = group.servers.find((s) => s.port !== primary)!.port;
      for (const k of keys.map(fleet.key)) {
        await until(`${k} on the replica`, async () => (await command(replica, 'GET', k)) === (await command(primary, 'GET', k)));
      }
      await fleet.servedFromL2(b, () => status(b.url, u.token), u.tokenId, keys);
    }, 120_000);
  },

  nodeKilled: {
    title: 'the primary killed under load: the Sentinels promote the replica, no valid caller refused, the revoked token refused within the bound, the instances follow by themselves',
    role: 'primary',
    // The subscriptions dropped with the primary: every instance emptied its L1 when it was back.
    everyInstanceResubscribes: true,
  },
  wholeTier: {
    title: 'the whole group killed and restarted (both servers, all Sentinels): L2 skipped meanwhile with no client error, evictions resume, L1 emptied on resubscribe',
    what: 'both servers and the 3 Sentinels',
  },
});
