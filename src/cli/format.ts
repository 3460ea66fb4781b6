// Results as the user reads them on stdout: a short human summary, or one JSON object. Pure.

import type { ColumnSchema } from '../schema/types.js';
import { groupThousands } from '../util/units.js';

export interface LoadSummary {
  command: 'create' | 'append';
  datasetId: string;
  name: string | null;
  uploadSessionId: string;
  published: boolean;
  tables: Array<{ name: string; rows: number; chunks: number; bytes: number; columns: ColumnSchema[] }>;
  /** CPU time of the scan pass and of the whole run so far, for benchmarks. */
  timing?: { scanCpuMs: number; totalCpuMs: number };
}

/** The `--json` document of create and append (field order as documented in the README). */
export function loadSummaryJson(summary: LoadSummary): object {
  return {
    datasetId: summary.datasetId,
    name: summary.name,
    uploadSessionId: summary.uploadSessionId,
    published: summary.published,
    tables: summary.tables.map((t) => ({
      name: t.name,
      rows: t.rows,
      chunks: t.chunks,
      bytes: t.bytes,
      columns: t.columns.map((c) => ({ name: c.name, type: c.type, role: c.role })),
    })),
    ...(summary.timing === undefined ? {} : { timing: { ...summary.timing } }),
  };
}

export function formatLoadResult(summary: LoadSummary): string {
  const label = summary.name ? `"${summary.name}" (${summary.datasetId})` : summary.datasetId;
  const published = summary.published ? ' and published' : ', not published';
  const lines = [summary.command === 'create' ? `Dataset ${label} created${published}.` : `Rows loaded into dataset ${label}${published}.`];
  for (const t of summary.tables) {
    lines.push(`  ${t.name}: ${count(t.rows, 'row')} in ${count(t.chunks, 'chunk')}, ${humanBytes(t.bytes)} of JSON, ${count(t.columns.length, 'column')}`);
  }
  if (!summary.published) {
    lines.push(`Upload session ${summary.uploadSessionId} is open and not published.`);
    lines.push(`Publish it with: mstrpush publish ${summary.datasetId} --session ${summary.uploadSessionId}`);
  }
  return lines.join('\n');
}

export function formatColumnsTable(columns: ReadonlyArray<ColumnSchema & { nulls?: number; example?: string | undefined }>): string {
  const header = ['column', 'type', 'role'];
  const withProfile = columns.some((c) => c.nulls !== undefined);
  if (withProfile) header.push('nulls', 'example');
  const rows = columns.map((c) => {
    const row = [c.name, c.type, c.role];
    if (withProfile) row.push(String(c.nulls ?? ''), truncate(c.example ?? '', 40));
    return row;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const render = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [render(header), render(widths.map((w) => '-'.repeat(w))), ...rows.map(render)].join('\n');
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function count(n: number, noun: string): string {
  return `${groupThousands(n)} ${noun}${n === 1 ? '' : 's'}`;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  // 999.95 and up would print as "1000.0" after rounding to one decimal: take the next unit instead.
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
