// Naive Parquet reference: hyparquet parquetReadObjects one row group at a time, objects to arrays
// in column order, JSON.stringify with a replacer for BigInt and Date (to the wire forms DATE
// YYYY-MM-DD and DATETIME YYYY-MM-DDTHH:MM:SS.fff), then the shared base64/PUT path.
// Usage: node naive-parquet.mjs <file.parquet> --schema <schema.json> --name <dataset name>

import fs from 'node:fs';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { NaiveClient, connectionFromEnv, openUpload, parseArgs } from './naive-push.mjs';

const args = parseArgs(process.argv.slice(2));
const table = JSON.parse(fs.readFileSync(args.schema, 'utf8')).tables[0];
const names = table.columns.map((c) => c.name);
const types = table.columns.map((c) => c.type);

// JSON.stringify has already applied Date#toJSON when the replacer runs, so the raw cell is read
// from the holder (`this`). Keys of cells are their column positions in the row array.
function replacer(key, value) {
  const raw = this[key];
  if (raw instanceof Date) {
    const iso = raw.toISOString();
    const type = types[key];
    if (type === 'DATE') return iso.slice(0, 10);
    if (type === 'TIME') return iso.slice(11, 23);
    return iso.slice(0, 23);
  }
  if (typeof value === 'bigint') return Number(value);
  return value;
}

const upload = await openUpload(new NaiveClient(connectionFromEnv()), {
  datasetName: args.name,
  table,
  stringify: (rows) => JSON.stringify(rows, replacer),
});

const file = await asyncBufferFromFile(args.file);
const metadata = await parquetMetadataAsync(file);
let rowStart = 0;
for (const group of metadata.row_groups) {
  const rowEnd = rowStart + Number(group.num_rows);
  const objects = await parquetReadObjects({ file, metadata, rowStart, rowEnd, columns: names, compressors });
  for (const object of objects) {
    const row = new Array(names.length);
    for (let i = 0; i < names.length; i++) row[i] = object[names[i]] ?? null;
    const sending = upload.add(row);
    if (sending) await sending;
  }
  rowStart = rowEnd;
}
const result = await upload.finish();
process.stdout.write(`${JSON.stringify(result)}\n`);
