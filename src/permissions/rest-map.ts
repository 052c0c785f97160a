// permissions/: what each REST route of the platform needs, in the one vocabulary (vocabulary.ts):
// the resource (first segment after the version) names the family; the method names the access,
// GET and HEAD read, POST, PUT, PATCH and DELETE write — with the platform's two kinds of exception
// (its v4 Swagger and v6 endpoint list): searches are POSTs that only read (`POST .../find`), and
// v4/v5 change envelopes with GETs (`GET /Api/v5/envelope/{id}/cancel`, `remind`, `unlock`,
// `restart/{days}`, `GET envelope/{templateId}/copyFromTemplate`). A resource or method this table
// does not name is refused for restricted tokens (fail closed); unrestricted ones pass as ever.
// /!\ Hot path: one map look-up and a suffix check per call.
import { ANY_TOKEN, type Family, type Need } from './vocabulary.js';

/** Resource (lower-cased) → family; `authorization` is the credential check any valid token may make. */
export const REST_RESOURCE_FAMILIES: Readonly<Record<string, Family | typeof ANY_TOKEN>> = {
  authorization: ANY_TOKEN,
  // v6 `GET /Api/v6/system/version`: what version answers, asked with a token
  system: ANY_TOKEN,
  envelope: 'envelope',
  recipient: 'envelope',
  envelopebulk: 'envelope',
  template: 'template',
  draft: 'draft',
  file: 'file',
  sspfile: 'file',
  organization: 'organization',
  license: 'organization',
  user: 'user',
  team: 'user',
};

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);
const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** POSTs that only read: the platform's searches (`.../find`), whose criteria travel in the body. */
const READING_POST = /\/find\/?$/i;
/** GETs that write (v4/v5): an envelope cancelled, reminded, unlocked, restarted, or copied from a template. */
const WRITING_GET = /^\/[^/]+\/(?:cancel|remind|unlock|restart|copyfromtemplate)(?:\/|$)/i;

/** Precomputed needs, so a call allocates nothing. */
const NEEDS = new Map<string, { read: Need; write: Need }>(
  Object.entries(REST_RESOURCE_FAMILIES).map(([resource, family]) => [
    resource,
    family === ANY_TOKEN ? { read: ANY_TOKEN, write: ANY_TOKEN } : { read: { family, access: 'read' }, write: { family, access: 'write' } },
  ]),
);

/**
 * What `method /Api/vN/<resource><rest>` needs; undefined = not in the vocabulary.
 * @param resource the first segment after the version, lower-cased
 * @param rest what follows it (`/1/cancel`, `/find`, ``)
 */
export function restNeed(method: string, resource: string, rest: string): Need | undefined {
  const needs = NEEDS.get(resource);
  if (!needs) return undefined;
  // The credential check is a read; anything else sent to it is not in the vocabulary
  if (needs.read === ANY_TOKEN) return READ_METHODS.has(method) ? ANY_TOKEN : undefined;
  if (READ_METHODS.has(method)) return WRITING_GET.test(rest) ? needs.write : needs.read;
  if (!WRITE_METHODS.has(method)) return undefined;
  return method === 'POST' && READING_POST.test(rest) ? needs.read : needs.write;
}
