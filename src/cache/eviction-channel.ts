// cache/: the fleet-wide eviction channel over Redis pub/sub (DESIGN.md §4). After a write commits,
// `publish` tombstones the keys in L2 and announces them on the channel; every instance subscribes
// and evicts its L1 on receipt. When the subscription drops, the instance empties its L1 as soon as
// it is back, since messages may have been lost meanwhile.
import type { Logger } from '../observability/logger.js';
import { subscribeWhenReady, type RedisClient } from './l2-redis.js';
import type { SharedCacheTier } from './tier.js';

export interface EvictionChannelOptions {
  /** Connection for PUBLISH (fails fast when Redis is down). */
  publisher: RedisClient;
  /** A dedicated connection in subscriber mode (it can send nothing else). */
  subscriber: RedisClient;
  channel: string;
  l2: SharedCacheTier;
  /** Evicts keys from this process's L1. */
  onEvict: (keys: string[]) => void;
  /** Empties this process's L1 (the subscription came back after a drop). */
  onResync: () => void;
  logger: Logger;
}

export interface EvictionChannel {
  /** Evicts keys everywhere: L2, this L1, and every other instance's L1. Never throws. */
  publish(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

const MAX_KEYS_PER_MESSAGE = 10_000;

/** The keys of a channel message, or undefined when it is not one of ours. */
export function parseEvictionMessage(message: string): string[] | undefined {
  try {
    const keys: unknown = JSON.parse(message);
    if (!Array.isArray(keys) || keys.length > MAX_KEYS_PER_MESSAGE || !keys.every((k) => typeof k === 'string')) return undefined;
    return keys as string[];
  } catch {
    return undefined;
  }
}

export async function openEvictionChannel(opts: EvictionChannelOptions): Promise<EvictionChannel> {
  const { publisher, subscriber, channel, logger } = opts;
  let everReady = false;
  let dropped = false;

  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    const keys = parseEvictionMessage(message);
    if (keys) opts.onEvict(keys);
    else logger.warn('eviction channel: ignored a malformed message', { channel });
  });
  subscriber.on('error', () => {}); // the L2 tier reports Redis state changes, once each
  subscriber.on('close', () => {
    if (everReady) dropped = true;
  });
  subscriber.on('ready', () => {
    // ioredis re-subscribes by itself on reconnect; what was published meanwhile is lost.
    if (dropped) {
      dropped = false;
      opts.onResync();
      logger.info('eviction channel: subscription restored, L1 emptied');
    }
    everReady = true;
  });
  // Subscribing waits for Redis; do not hold start-up for it.
  subscribeWhenReady(subscriber, channel).catch((e: Error) => logger.warn('eviction channel: subscribe failed', { error: e.message }));

  return {
    async publish(keys) {
      if (keys.length === 0) return;
      opts.onEvict([...keys]);
      await opts.l2.invalidate(keys);
      try {
        await publisher.publish(channel, JSON.stringify(keys));
      } catch {
        // Redis down: the other instances pick the change up from the store's change feed.
      }
    },
    async close() {
      subscriber.disconnect();
    },
  };
}
