// Every file of apache/parquet-testing/data through the Parquet source: each one loads cell for
// cell as the independent reading says, or is refused for its documented reason.

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { openParquetSource } from '../../src/sources/parquet.js';
import type { ParquetSourceOptions } from '../../src/sources/parquet.js';
import { corpusDataDir, corpusEntries, differences } from '../helpers/parquet-corpus.js';
import type { Cell, CorpusEntry } from '../helpers/parquet-corpus.js';

const entries = corpusEntries();

async function readRows(file: string, options: ParquetSourceOptions): Promise<{ columns: string[]; types: string[]; rows: Cell[][]; error?: unknown }> {
  const source = await openParquetSource(file, options);
  const rows: Cell[][] = [];
  try {
    for await (const batch of source.batches()) rows.push(...batch.rows);
  } catch (error) {
    return { columns: [...source.columns], types: [...source.declaredTypes], rows, error };
  }
  return { columns: [...source.columns], types: [...source.declaredTypes], rows };
}

async function openError(file: string, options: ParquetSourceOptions = {}): Promise<unknown> {
  try {
    const { error } = await readRows(file, options);
    return error;
  } catch (error) {
    return error;
  }
}

describe('the parquet-testing corpus', () => {
  it('has an expectation for every file', () => {
    const files = readdirSync(corpusDataDir).filter((f) => f.endsWith('.parquet')).sort();
    expect(entries.map((e) => e.file)).toEqual(files);
  });

  const refusedByDefault = entries.filter((e) => e.refused === 'all' || e.refused.length > 0);
  it.each(refusedByDefault.map((e) => [e.file, e] as const))('refuses %s by default, naming its nested or binary columns', async (_, entry: CorpusEntry) => {
    const file = path.join(corpusDataDir, entry.file);
    const error = await openError(file);
    expect(error).toMatchObject({ code: 'INPUT_SCHEMA', location: { file } });
    const message = (error as Error).message;
    if (entry.refused !== 'all') for (const name of entry.refused) expect(message).toContain(JSON.stringify(name));
  });

  const compared = entries.filter((e) => e.reference !== undefined && e.valueError === undefined);
  it.each(compared.map((e) => [e.file, e] as const))('reads %s as the independent reading has it', async (_, entry: CorpusEntry) => {
    const { columns, types, rows, error } = await readRows(path.join(corpusDataDir, entry.file), entry.wayOut ?? {});
    expect(error).toBeUndefined();
    expect(differences(entry, columns, types, rows)).toEqual([]);
  });

  const failing = entries.filter((e) => e.wayOutError !== undefined);
  it.each(failing.map((e) => [e.file, e] as const))('refuses %s with a clear error even with its way out', async (_, entry: CorpusEntry) => {
    const file = path.join(corpusDataDir, entry.file);
    expect(await openError(file, entry.wayOut ?? {})).toMatchObject({ code: entry.wayOutError!.code, location: { file } });
  });

  const stopping = entries.filter((e) => e.valueError !== undefined);
  it.each(stopping.map((e) => [e.file, e] as const))('reads %s exactly up to the value it refuses', async (_, entry: CorpusEntry) => {
    const file = path.join(corpusDataDir, entry.file);
    // One row per batch, so every row before the refused one is handed over.
    const { rows, error } = await readRows(file, { ...entry.wayOut, batchRows: 1 });
    const { code, line, column } = entry.valueError!;
    expect(error).toMatchObject({ code, location: { file, line, column } });
    expect(rows).toEqual(entry.reference!.rows!.slice(0, line - 1));
  });
});
