// cli/: reads the legacy exports with csv-parse, keeping each row's line number so a bad row can
// be reported precisely: users' tokens (CSV: login,name,token) and organization keys (CSV: name,key),
// each with an optional header row.
import { parse } from 'csv-parse/sync';
import type { LegacyTokenRow } from '../store/admin-store.js';
import { StoreError } from '../store/errors.js';
import type { LegacyOrgKeyRow } from '../store/org-token-admin.js';

/** The file's records with their line numbers, the header row (recognised by `isHeader`) dropped. */
function readRecords(text: string, columns: string[], isHeader: (record: string[]) => boolean): { record: string[]; line: number }[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, skip_empty_lines: true, trim: true, relax_column_count: true }) as never;
  } catch (e) {
    // Only the kind of fault and its line: csv-parse's full message can quote a field, i.e. a secret.
    const { message, lines } = e as Error & { lines?: number };
    throw new StoreError('Invalid', `${lines ? `line ${lines}: ` : ''}not valid CSV (${message.split(':')[0]})`);
  }
  const out: { record: string[]; line: number }[] = [];
  for (const { record, info } of records) {
    if (out.length === 0 && isHeader(record)) continue;
    if (record.length !== columns.length) {
      throw new StoreError('Invalid', `line ${info.lines}: expected ${columns.length} columns (${columns.join(',')}), found ${record.length}`);
    }
    out.push({ record, line: info.lines });
  }
  return out;
}

export function parseLegacyCsv(text: string): LegacyTokenRow[] {
  const rows = readRecords(text, ['login', 'name', 'token'], (r) => r[0]?.toLowerCase() === 'login' && r[2]?.toLowerCase() === 'token').map(
    ({ record: [login, name, token], line }) => ({ line, login: login!, name: name!, token: token! }),
  );
  if (rows.length === 0) throw new StoreError('Invalid', 'the file has no token rows');
  return rows;
}

/** The platform's organization keys: `name,key` rows (`org-token import-legacy`). */
export function parseLegacyOrgKeyCsv(text: string): LegacyOrgKeyRow[] {
  const rows = readRecords(text, ['name', 'key'], (r) => r[0]?.toLowerCase() === 'name' && r[1]?.toLowerCase() === 'key').map(
    ({ record: [name, key], line }) => ({ line, name: name!, key: key! }),
  );
  if (rows.length === 0) throw new StoreError('Invalid', 'the file has no organization key rows');
  return rows;
}
