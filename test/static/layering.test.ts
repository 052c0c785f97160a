// The layering of src/, as a rule anyone can repeat: every folder stands on a floor, and a file
// imports only from its own folder or from folders on lower floors — never up, never sideways to
// a folder on the same floor. Type-only imports count too (`import type`, `export type ... from`,
// `import('...')`): a type names the layer it comes from, and the arrow is what makes a layer hard
// to change or to test alone. Unit tests beside the code (src/**/*.test.ts) are not held to it: they
// are not part of the program, and one may check two floors against each other (the settings
// document against the OAuth scopes). Imports that leave src/ (node:, packages) are not arrows.
//
// The import specifiers are read with TypeScript's own pre-processor (ts.preProcessFile), so
// comments and strings never count and every import form does.
//
// A new folder fails this test until it is given a floor: deciding where it stands is the point.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** From the ground floor up. Folders on one floor are peers: neither may import the other. */
const FLOORS: readonly (readonly string[])[] = [
  // Ground floor: import nothing of ours. Outcome types with stable codes; token formats (minting,
  // shape, hashing, the access-token claims); the config schema; logger, metrics, tracing, request
  // context and the label vocabularies; the permission vocabulary with what each REST route and SOAP
  // operation needs, and a token's restrictions (issue 20).
  ['outcomes', 'tokens', 'config', 'observability', 'permissions'],
  // Kysely database, migrations, the read model and the write side (users, tokens, organization
  // tokens, OAuth clients and grants).
  ['store'],
  // The cache tiers over the store's read model; the pure rules over resolved records.
  ['cache', 'policy'],
  // One unit per credential kind: extract, shape check, resolve through the cache, judge.
  ['credentials'],
  // Path normalization, routes, client address, identity header, the forwarder.
  ['proxy'],
  // The authenticated-call step, the abuse limits, the REST surface and its error body.
  ['pipeline'],
  // The SOAP surface; the Express side's shared pieces (the one error handler, the page's server);
  // forward-auth mode's decision endpoint (the REST pipeline up to policy, asked by an edge).
  ['soap', 'web', 'forward-auth'],
  // The edge dispatcher; the leaked-token endpoint; the settings API and its sessions.
  ['edge', 'security', 'settings'],
  // The OAuth authorization server (its sign-in uses the settings sessions).
  ['oauth'],
  // Programs of their own: the CLI, the sample upstream, the settings page's browser bundle.
  ['cli', 'sample-upstream', 'web/page'],
  // The composition root and start-up: app.ts, main.ts, supervisor.ts.
  ['(root)'],
];

/**
 * Known upward arrows, each with who removes it and how. The test fails when one is gone, so the
 * list only ever shrinks. Key: `<importing file> -> <imported folder>`.
 */
const KNOWN: Readonly<Record<string, string>> = {};

/** `web/page` is the browser bundle (its own tsconfig and program), kept apart from the server's `web`. */
function folderOf(file: string): string {
  const rel = relative(SRC, file).split('\\').join('/');
  if (rel.startsWith('web/page/')) return 'web/page';
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '(root)';
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|tsx)$/.test(name) && !name.endsWith('.d.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

interface Arrow {
  file: string;
  specifier: string;
  from: string;
  to: string;
}

/** Every import of one of our modules in another folder of src/. */
function arrows(): Arrow[] {
  const out: Arrow[] = [];
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (!specifier.startsWith('.')) continue; // node:, packages
      const target = resolve(dirname(file), specifier);
      if (relative(SRC, target).startsWith('..')) continue; // leaves src/
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to) out.push({ file: relative(SRC, file), specifier, from, to });
    }
  }
  return out;
}

const floorOf = new Map(FLOORS.flatMap((folders, floor) => folders.map((f) => [f, floor] as const)));
const describeArrow = (a: Arrow) => `${a.file} -> ${a.specifier} (${a.from} on floor ${floorOf.get(a.from)}, ${a.to} on floor ${floorOf.get(a.to)})`;

describe('the layering of src/', () => {
  const all = arrows();

  it('gives every folder one floor', () => {
    const folders = new Set(sourceFiles(SRC).map(folderOf));
    expect([...folders].filter((f) => !floorOf.has(f)).sort()).toEqual([]);
    expect(FLOORS.flat().filter((f, i, list) => list.indexOf(f) !== i)).toEqual([]);
    expect(FLOORS.flat().filter((f) => !folders.has(f))).toEqual([]);
  });

  it('the ground floor imports nothing of ours', () => {
    const ground = new Set(FLOORS[0]);
    expect(all.filter((a) => ground.has(a.from)).map(describeArrow)).toEqual([]);
  });

  it('no import runs up or sideways, but for the known exceptions', () => {
    const wrong = all.filter((a) => floorOf.get(a.to)! >= floorOf.get(a.from)!);
    const unknown = wrong.filter((a) => !(`${a.file} -> ${a.to}` in KNOWN));
    expect(unknown.map(describeArrow)).toEqual([]);
  });

  it('lists no known exception that is gone', () => {
    const present = new Set(all.map((a) => `${a.file} -> ${a.to}`));
    expect(Object.keys(KNOWN).filter((k) => !present.has(k))).toEqual([]);
  });
});
