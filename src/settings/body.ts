// settings/: a request body checked against its wire.ts schema. The first problem becomes the
// 400 InvalidRequest message: `field: what is wrong`, or the unknown fields (strict objects refuse
// them, so a typo like "enable" is not silently ignored).
import type { z } from 'zod';
import { badRequest } from './errors.js';

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') throw badRequest(`unknown field(s): ${issue.keys.join(', ')}`);
  throw badRequest(`${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
}
