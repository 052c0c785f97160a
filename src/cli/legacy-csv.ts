// cli/: reads the legacy token export (CSV: login,name,token; an optional header row) with
// csv-parse, keeping each row's line number so a bad row can be reported precisely.
import { parse } from 'csv-parse/sync';
import type { LegacyTokenRow } from '../store/admin-store.js';
import { StoreError } from '../store/errors.js';

export function parseLegacyCsv(text: string): LegacyTokenRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, skip_empty_lines: true, trim: true, relax_column_count: true }) as never;
  } catch (e) {
    throw new StoreError('Invalid', `not valid CSV: ${(e as Error).message.split('\n')[0]}`);
  }
  const rows: LegacyTokenRow[] = [];
  for (const { record, info } of records) {
    if (rows.length === 0 && record[0]?.toLowerCase() === 'login' && record[2]?.toLowerCase() === 'token') continue;
    if (record.length !== 3) throw new StoreError('Invalid', `line ${info.lines}: expected 3 columns (login,name,token), found ${record.length}`);
    const [login, name, token] = record as [string, string, string];
    rows.push({ line: info.lines, login, name, token });
  }
  if (rows.length === 0) throw new StoreError('Invalid', 'the file has no token rows');
  return rows;
}
