// Naive CSV reference: csv-parse streaming to objects (columns: true), each object turned into an
// array typed per the schema mstrpush infers, then the shared JSON/base64/PUT path.
// Usage: node naive-csv.mjs <file.csv> --schema <schema.json> --name <dataset name>

import fs from 'node:fs';
import { parse } from 'csv-parse';
import { NaiveClient, connectionFromEnv, openUpload, parseArgs } from './naive-push.mjs';

const args = parseArgs(process.argv.slice(2));
const table = JSON.parse(fs.readFileSync(args.schema, 'utf8')).tables[0];
const names = table.columns.map((c) => c.name);

const NUMERIC = new Set(['INTEGER', 'BIGINTEGER', 'DOUBLE', 'BIGDECIMAL']);
const converters = table.columns.map((c) => {
  if (NUMERIC.has(c.type)) return (v) => (v === '' ? null : Number(v));
  if (c.type === 'BOOL') {
    return (v) => {
      if (v === '') return null;
      const lower = v.toLowerCase();
      return lower === 'true' || lower === '1';
    };
  }
  // STRING, DATE, TIME, DATETIME: the text as it is (the file already holds ISO dates).
  return (v) => (v === '' ? null : v);
});

const upload = await openUpload(new NaiveClient(connectionFromEnv()), {
  datasetName: args.name,
  table,
  stringify: (rows) => JSON.stringify(rows),
});

const parser = fs.createReadStream(args.file).pipe(parse({ columns: true, bom: true }));
for await (const record of parser) {
  const row = new Array(names.length);
  for (let i = 0; i < names.length; i++) row[i] = converters[i](record[names[i]]);
  const sending = upload.add(row);
  if (sending) await sending;
}
const result = await upload.finish();
process.stdout.write(`${JSON.stringify(result)}\n`);
