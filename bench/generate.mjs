// Seeded generator of the benchmark inputs: a CSV of realistic mixed columns and its Parquet twin
// (same rows, same seed), written in one pass and cached next to a small meta file so later runs
// reuse them. Usable alone: `node bench/generate.mjs <sizeMB> [--seed N] [--dir D]`.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';

// Bump when the row recipe changes, so cached files made by an older recipe are regenerated.
const GENERATOR_VERSION = 1;
export const DEFAULT_SEED = 20260501;
// Rows per Parquet row group: in the range common writers use (DuckDB ~123k, pyarrow ~1M).
export const PARQUET_GROUP_ROWS = 500_000;

export const COLUMNS = [
  'order_id', 'customer_id', 'amount', 'quantity', 'product',
  'city', 'order_date', 'updated_at', 'active', 'discount',
];

/** mulberry32: tiny, fast, good enough for test data, and identical on every platform. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PLAIN_PRODUCTS = [
  'Desk lamp', 'Office chair', 'Standing desk', 'USB-C cable', 'Wireless mouse', 'Keyboard',
  'Monitor arm', 'Notebook A5', 'Ballpoint pens', 'Stapler', 'Paper clips', 'Whiteboard',
  'Coffee beans 1kg', 'Tea sampler', 'Water bottle', 'Backpack', 'Laptop sleeve', 'Headphones',
  'Webcam HD', 'Desk mat', 'Cable tray', 'Phone stand', 'Label printer', 'Shredder',
  'Müsli bar', 'Crème brûlée torch', 'Café crème cups', '東京 green tea', 'Smørrebrød board', 'Jalapeño sauce',
];
const QUOTED_PRODUCTS = [
  'Desk lamp, large', 'Chair, ergonomic, black', 'Pens, blue, 10 pack', 'Monitor 27" stand, black',
  'Cable 3" clips, 20 pcs', 'Notebook, dotted', 'Mug, "Best boss" print', 'Tea, green, 東京 blend',
  'Café set, 4 cups', 'Paper, A4, 500 sheets', 'Frame 8"x10", oak', 'Müsli, nuts, 750g',
];
const CITIES = [
  'Berlin', 'Paris', 'London', 'Madrid', 'Rome', 'Vienna', 'Prague', 'Warsaw', 'Lisbon', 'Dublin',
  'New York', 'Chicago', 'Toronto', 'Austin', 'Seattle', 'Denver', 'Boston', 'Atlanta',
  'Tokyo', 'Osaka', 'Seoul', 'Sydney', 'Melbourne', 'Singapore', 'Mumbai', 'Cape Town',
];

function csvField(value) {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

// Each table entry carries its CSV text and how many bytes more its UTF-8 form has than its
// length in UTF-16 units, so the generator can count bytes without encoding every line.
function table(values) {
  return values.map((value) => {
    const field = csvField(value);
    return { value, field, extra: Buffer.byteLength(field) - field.length };
  });
}

const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(2015, 0, 1) / DAY_MS;
const DAY_COUNT = 4018; // 2015-01-01 .. 2025-12-31
const DATE_TEXT = Array.from({ length: DAY_COUNT }, (_, i) => new Date((FIRST_DAY + i) * DAY_MS).toISOString().slice(0, 10));
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * Yields rows as { line (CSV text with newline), extra (UTF-8 bytes beyond line.length), values }.
 * `values` follow COLUMNS and are what the Parquet twin stores: numbers, strings, null,
 * days since the epoch for order_date and epoch milliseconds (UTC) for updated_at.
 */
export function* rows(seed) {
  const rnd = mulberry32(seed);
  const plain = table(PLAIN_PRODUCTS);
  const quoted = table(QUOTED_PRODUCTS);
  const cities = table(CITIES);
  for (let orderId = 1; ; orderId++) {
    const customerId = 1 + Math.floor(rnd() * 250_000);
    const cents = rnd() < 0.05 ? -(1 + Math.floor(rnd() * 50_000)) : 1 + Math.floor(rnd() * 200_000);
    const abs = Math.abs(cents);
    const amountText = `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${PAD2[abs % 100]}`;
    const quantity = rnd() < 0.1 ? null : 1 + Math.floor(rnd() * 20);
    const product = rnd() < 1 / 7 ? quoted[Math.floor(rnd() * quoted.length)] : plain[Math.floor(rnd() * plain.length)];
    const city = cities[Math.floor(rnd() * cities.length)];
    const day = Math.floor(rnd() * DAY_COUNT);
    const updDay = Math.min(DAY_COUNT - 1, day + Math.floor(rnd() * 30));
    const second = Math.floor(rnd() * 86_400);
    const millis = rnd() < 0.3 ? 1 + Math.floor(rnd() * 999) : 0;
    const updatedText = `${DATE_TEXT[updDay]}T${PAD2[Math.floor(second / 3600)]}:${PAD2[Math.floor(second / 60) % 60]}:${PAD2[second % 60]}${millis ? `.${PAD3[millis]}` : ''}`;
    const active = rnd() < 0.8;
    const discount = rnd() < 0.15 ? null : Math.floor(rnd() * 31);
    const line = `${orderId},${customerId},${amountText},${quantity ?? ''},${product.field},${city.field},${DATE_TEXT[day]},${updatedText},${active},${discount === null ? '' : `0.${PAD2[discount]}`}\n`;
    yield {
      line,
      extra: product.extra + city.extra,
      values: [
        orderId, customerId, cents / 100, quantity, product.value, city.value,
        FIRST_DAY + day, ((FIRST_DAY + updDay) * 86_400 + second) * 1000 + millis, active,
        discount === null ? null : discount / 100,
      ],
    };
  }
}

const PARQUET_SCHEMA = [
  { name: 'root', num_children: COLUMNS.length },
  { name: 'order_id', type: 'INT32', repetition_type: 'OPTIONAL' },
  { name: 'customer_id', type: 'INT32', repetition_type: 'OPTIONAL' },
  { name: 'amount', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  { name: 'quantity', type: 'INT32', repetition_type: 'OPTIONAL' },
  { name: 'product', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'OPTIONAL' },
  { name: 'city', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'OPTIONAL' },
  { name: 'order_date', type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' }, repetition_type: 'OPTIONAL' },
  {
    name: 'updated_at', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' }, repetition_type: 'OPTIONAL',
  },
  { name: 'active', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  { name: 'discount', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
];

export function sizeLabel(sizeMB) {
  return sizeMB >= 1000 && sizeMB % 1000 === 0 ? `${sizeMB / 1000}GB` : `${sizeMB}MB`;
}

/** Paths and meta of the inputs for one target size; generates them unless a matching cache exists. */
export function ensureData({ dir, sizeMB, seed = DEFAULT_SEED, log = () => {} }) {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `orders-${sizeLabel(sizeMB)}`);
  const csvPath = `${base}.csv`;
  const parquetPath = `${base}.parquet`;
  const metaPath = `${base}.meta.json`;
  const cached = readMeta(metaPath);
  if (
    cached && cached.version === GENERATOR_VERSION && cached.seed === seed && cached.targetBytes === sizeMB * 1e6 &&
    cached.groupRows === PARQUET_GROUP_ROWS && fileSize(csvPath) === cached.csvBytes && fileSize(parquetPath) === cached.parquetBytes
  ) {
    return { csvPath, parquetPath, ...cached, cached: true };
  }
  log(`generating ${path.basename(csvPath)} and its Parquet twin (seed ${seed}, ${sizeMB} MB) ...`);
  const started = Date.now();
  fs.rmSync(metaPath, { force: true });
  const meta = writeFiles({ csvPath, parquetPath, targetBytes: sizeMB * 1e6, seed });
  const full = { version: GENERATOR_VERSION, seed, targetBytes: sizeMB * 1e6, groupRows: PARQUET_GROUP_ROWS, ...meta };
  fs.writeFileSync(metaPath, `${JSON.stringify(full, null, 2)}\n`);
  log(`  ${meta.rows.toLocaleString('en-US')} rows, CSV ${(meta.csvBytes / 1e6).toFixed(1)} MB, Parquet ${(meta.parquetBytes / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { csvPath, parquetPath, ...full, cached: false };
}

function readMeta(metaPath) {
  try {
    return JSON.parse(fs.readFileSync(metaPath, 'utf8'));
  } catch {
    return undefined;
  }
}

function fileSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

function writeFiles({ csvPath, parquetPath, targetBytes, seed }) {
  const fd = fs.openSync(csvPath, 'w');
  const header = `${COLUMNS.join(',')}\n`;
  let pending = header;
  let csvBytes = header.length;
  const pq = new ParquetWriter({ writer: fileWriter(parquetPath), schema: PARQUET_SCHEMA, codec: 'SNAPPY' });
  let columns = COLUMNS.map(() => []);
  const flushGroup = () => {
    if (columns[0].length === 0) return;
    pq.write({ columnData: COLUMNS.map((name, i) => ({ name, data: columns[i] })), rowGroupSize: PARQUET_GROUP_ROWS });
    columns = COLUMNS.map(() => []);
  };
  let count = 0;
  for (const row of rows(seed)) {
    pending += row.line;
    csvBytes += row.line.length + row.extra;
    for (let i = 0; i < row.values.length; i++) columns[i].push(row.values[i]);
    count++;
    if (pending.length >= 1 << 22) {
      fs.writeSync(fd, pending);
      pending = '';
    }
    if (columns[0].length >= PARQUET_GROUP_ROWS) flushGroup();
    if (csvBytes >= targetBytes) break;
  }
  fs.writeSync(fd, pending);
  fs.closeSync(fd);
  flushGroup();
  pq.finish();
  const actual = fs.statSync(csvPath).size;
  if (actual !== csvBytes) throw new Error(`generator byte count is off: counted ${csvBytes}, wrote ${actual}`);
  return { rows: count, csvBytes, parquetBytes: fs.statSync(parquetPath).size };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const sizeMB = Number(args[0] ?? 50);
  const seedAt = args.indexOf('--seed');
  const dirAt = args.indexOf('--dir');
  const dir = dirAt >= 0 ? path.resolve(args[dirAt + 1]) : path.join(path.dirname(fileURLToPath(import.meta.url)), '.data');
  const result = ensureData({ dir, sizeMB, seed: seedAt >= 0 ? Number(args[seedAt + 1]) : DEFAULT_SEED, log: (l) => console.error(l) });
  console.log(JSON.stringify(result));
}
