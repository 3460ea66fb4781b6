// Rows [from, end) of one flat column of a row group, page by page. The library's own column
// reader pushes every value of a row group, null or not, onto a growing array one at a time, and
// maps a whole page of dictionary indexes or dates to a new array before that: on a 2.3-million-
// row file that is about a gigabyte of short-lived arrays per pass. Here the pages are read
// with the library's page functions, so every encoding and codec it knows is decoded as it
// decodes it, and each value goes once, straight to its row of one array sized to the rows asked.

import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { convert } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { getMaxDefinitionLevel } from 'hyparquet/src/schema.js';
import type { ColumnDecoder, DataReader, DecodedArray, PageHeader } from 'hyparquet/src/types.js';

/**
 * The values of rows [from, end) of a flat column (not nested, not repeated) whose chunk is
 * `chunk`, as the library's scan would return them: the same values in the same order, null for
 * a null. Fewer values than asked means the chunk ends early. Throws what the library throws on
 * a damaged page. The rows are written to `scratch` unless one page holds them all; the result
 * is good until the next call with the same scratch.
 */
export function readFlatColumnRows(chunk: ArrayBuffer, decoder: ColumnDecoder, from: number, end: number, scratch: unknown[]): DecodedArray {
  const reader: DataReader = { view: new DataView(chunk), offset: 0 };
  const maxDefinition = getMaxDefinitionLevel(decoder.schemaPath);
  let dictionary: DecodedArray | undefined;
  // Rows of the pages read so far, and what the rows asked for became.
  let rows = 0;
  let out: unknown[] | undefined;
  let written = 0;
  while (rows < end && reader.offset < reader.view.byteLength - 1) {
    const header = parquetHeader(reader);
    if (header.type === 'DICTIONARY_PAGE') {
      const { data } = readPage(reader, header, decoder, undefined, undefined, 0);
      if (data !== undefined) dictionary = convert(data, decoder);
      continue;
    }
    const page = readDataPageAt(reader, header, decoder, from - rows);
    if (page === undefined) continue;
    if (typeof page === 'number') {
      rows += page;
      continue;
    }
    const { definitionLevels, dataPage, encoding } = page;
    const levels = definitionLevels !== undefined && definitionLevels.length > 0 ? definitionLevels : undefined;
    // As the library assembles a flat column: levels below the maximum are nulls, and a page
    // without levels is all values.
    const pageRows = levels?.length ?? dataPage.length;
    if (pageRows === 0) continue;
    const indexes = dictionary !== undefined && encoding.endsWith('_DICTIONARY') ? dataPage : undefined;
    const values = indexes === undefined && !keepsStoredValues(decoder) ? convert(dataPage, decoder) : dataPage;
    const first = Math.max(from, rows);
    const last = Math.min(end, rows + pageRows);
    if (first >= last) {
      rows += pageRows;
      continue;
    }
    if (out === undefined && first === from && last === end && levels === undefined && indexes === undefined) {
      // One page holds every row asked for, as they are: a view, or the page's own array.
      if (last - first === pageRows) return values;
      return Array.isArray(values) ? values.slice(first - rows, last - rows) : values.subarray(first - rows, last - rows);
    }
    if (out === undefined) {
      out = scratch;
      out.length = end - from;
    }
    // Values before `first` in this page: the non-null ones among the rows skipped.
    let value = 0;
    if (levels !== undefined) {
      for (let r = rows; r < first; r++) if (levels[r - rows] === maxDefinition) value++;
    } else {
      value = first - rows;
    }
    for (let r = first; r < last; r++) {
      if (levels !== undefined && levels[r - rows] !== maxDefinition) {
        out[written++] = null;
        continue;
      }
      out[written++] = indexes === undefined ? values[value++] : dictionary![indexes[value++] as number];
    }
    rows += pageRows;
  }
  if (out === undefined) return [];
  if (written < out.length) out.length = written;
  return out as DecodedArray;
}

/**
 * Reads the data page at the reader: its levels and values, the number of rows it holds when it
 * lies wholly before the rows wanted (the library then skips it undecoded, and so does this), or
 * undefined for a page that is neither. Moves the reader past the page.
 */
function readDataPageAt(
  reader: DataReader,
  header: PageHeader,
  decoder: ColumnDecoder,
  rowsToSkip: number,
): { definitionLevels: number[] | undefined; dataPage: DecodedArray; encoding: string } | number | undefined {
  if (header.type === 'DATA_PAGE') {
    const daph = header.data_page_header;
    if (daph === undefined) throw new Error('parquet data page header is undefined');
    const compressed = pageBytes(reader, header);
    if (rowsToSkip > daph.num_values) return daph.num_values;
    const page = decompressPage(compressed, Number(header.uncompressed_page_size), decoder.codec, decoder.compressors);
    const { definitionLevels, dataPage } = readDataPage(page, daph, decoder);
    return { definitionLevels, dataPage, encoding: daph.encoding };
  }
  if (header.type === 'DATA_PAGE_V2') {
    const daph2 = header.data_page_header_v2;
    if (daph2 === undefined) throw new Error('parquet data page header v2 is undefined');
    const compressed = pageBytes(reader, header);
    if (rowsToSkip > daph2.num_rows) return daph2.num_rows;
    const { definitionLevels, dataPage } = readDataPageV2(compressed, header, decoder);
    return { definitionLevels, dataPage, encoding: daph2.encoding };
  }
  // Index pages and kinds the library does not know: it throws for them, with its own words.
  readPage(reader, header, decoder, undefined, undefined, 0);
  return undefined;
}

function pageBytes(reader: DataReader, header: PageHeader): Uint8Array {
  const bytes = new Uint8Array(reader.view.buffer, reader.view.byteOffset + reader.offset, header.compressed_page_size);
  reader.offset += header.compressed_page_size;
  return bytes;
}

/**
 * Whether the library's conversion of a column's values gives them back as they are stored, with
 * the parsers parquet.ts passes (which keep dates, timestamps and bytes in their stored form) and
 * utf8 off. The library then copies a page into a new array, once or twice; the copies are skipped.
 * Any other column (decimals, INT96, unsigned integers, FLOAT16) goes through the conversion.
 */
function keepsStoredValues({ element, utf8 }: ColumnDecoder): boolean {
  if (utf8 !== false || element.type === 'INT96') return false;
  const converted = element.converted_type;
  if (converted !== undefined) return converted === 'DATE' || converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || converted === 'UTF8';
  const logical = element.logical_type?.type;
  return logical === undefined || logical === 'TIMESTAMP' || logical === 'STRING';
}
