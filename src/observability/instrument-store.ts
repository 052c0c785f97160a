// observability/: wraps the gateway's read model so every store read is timed and every failure
// counted, without the store or the pipeline knowing about metrics. A Proxy, so a method added to
// the read model later is instrumented without touching this file. Only store misses reach it.
import { storeDuration, storeErrors } from './metrics.js';

export function instrumentStore<T extends object>(store: T): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const operation = String(prop);
      return async (...args: unknown[]) => {
        const end = storeDuration.startTimer({ operation });
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (e) {
          storeErrors.inc({ operation });
          throw e;
        } finally {
          end();
        }
      };
    },
  });
}
