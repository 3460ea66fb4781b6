// Rows [from, end) of one flat column of a row group, page by page. The library's own column
// reader pushes every value of a row group, null or not, onto a growing array one at a time;
// decodes definition levels and dictionary indexes into new arrays of numbers per page; and maps
// whole pages of dates and timestamps to new arrays: on a 2.3-million-row file that is well over
// a gigabyte of short-lived arrays per pass. Here the page headers, decompression and values are
// the library's own functions, so every encoding and codec it knows is read as it reads it; the
// levels, indexes and chunk bytes go to buffers reused from read to read, and each value goes
// once, straight to its row.

import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { convert } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { getMaxDefinitionLevel } from 'hyparquet/src/schema.js';
import type { ColumnDecoder, DataPageHeader, DataPageHeaderV2, DataReader, DecodedArray, PageHeader } from 'hyparquet/src/types.js';

/**
 * What one pass reuses from read to read: the array the rows go to, and the definition levels
 * and dictionary indexes of the page being read, which the library would put in a new array
 * of numbers per page.
 */
export class PageScratch {
  readonly rows: unknown[] = [];
  private bytes = new Uint8Array(0);
  private levels = new Uint8Array(0);
  private indexes = new Int32Array(0);

  /** Room for a column chunk's bytes. Values read from an uncompressed chunk point into it. */
  bytesFor(count: number): Uint8Array {
    // Not zeroed: the caller fills every byte, or fails.
    if (this.bytes.length < count) this.bytes = Buffer.allocUnsafeSlow(count);
    return this.bytes.subarray(0, count);
  }

  levelsFor(count: number): Uint8Array {
    if (this.levels.length < count) this.levels = new Uint8Array(count);
    return this.levels.subarray(0, count);
  }

  indexesFor(count: number): Int32Array {
    if (this.indexes.length < count) this.indexes = new Int32Array(count);
    return this.indexes.subarray(0, count);
  }
}

/** A data page's values, and its definition levels when it has NULLs to place. */
interface DataPageValues {
  levels: ArrayLike<number> | undefined;
  values: DecodedArray;
  encoding: string;
}

/**
 * The values of rows [from, end) of a flat column (not nested, not repeated) whose chunk is
 * `chunk`, as the library's scan would return them: the same values in the same order, null for
 * a null. Fewer values than asked means the chunk ends early. Throws what the library throws on
 * a damaged page. The rows are written to `scratch` unless one page holds them all; the result
 * is good until the next call with the same scratch.
 */
export function readFlatColumnRows(chunk: Uint8Array, decoder: ColumnDecoder, from: number, end: number, scratch: PageScratch): DecodedArray {
  const reader: DataReader = { view: new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength), offset: 0 };
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
    const page = readDataPageAt(reader, header, decoder, from - rows, maxDefinition, dictionary !== undefined, scratch);
    if (page === undefined) continue;
    if (typeof page === 'number') {
      rows += page;
      continue;
    }
    const { values: dataPage, encoding } = page;
    const levels = page.levels !== undefined && page.levels.length > 0 ? page.levels : undefined;
    // As the library assembles a flat column: levels below the maximum are nulls, and a page
    // without levels is all values.
    const pageRows = levels?.length ?? dataPage.length;
    if (pageRows === 0) continue;
    const first = Math.max(from, rows);
    const last = Math.min(end, rows + pageRows);
    if (first >= last) {
      rows += pageRows;
      continue;
    }
    const indexes = dictionary !== undefined && encoding.endsWith('_DICTIONARY') ? dataPage : undefined;
    const values = indexes === undefined && !keepsStoredValues(decoder) ? convert(dataPage, decoder) : dataPage;
    if (out === undefined && first === from && last === end && levels === undefined && indexes === undefined) {
      // One page holds every row asked for, as they are: a view, or the page's own array.
      if (last - first === pageRows) return values;
      return Array.isArray(values) ? values.slice(first - rows, last - rows) : values.subarray(first - rows, last - rows);
    }
    if (out === undefined) {
      out = scratch.rows;
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
  maxDefinition: number,
  hasDictionary: boolean,
  scratch: PageScratch,
): DataPageValues | number | undefined {
  if (header.type === 'DATA_PAGE') {
    const daph = header.data_page_header;
    if (daph === undefined) throw new Error('parquet data page header is undefined');
    const compressed = pageBytes(reader, header);
    if (rowsToSkip > daph.num_values) return daph.num_values;
    const page = decompressPage(compressed, Number(header.uncompressed_page_size), decoder.codec, decoder.compressors);
    if (readsTyped(daph.encoding, decoder, hasDictionary)) return readPageV1(page, daph, decoder, maxDefinition, scratch);
    const { definitionLevels, dataPage } = readDataPage(page, daph, decoder);
    return { levels: definitionLevels, values: dataPage, encoding: daph.encoding };
  }
  if (header.type === 'DATA_PAGE_V2') {
    const daph2 = header.data_page_header_v2;
    if (daph2 === undefined) throw new Error('parquet data page header v2 is undefined');
    const compressed = pageBytes(reader, header);
    if (rowsToSkip > daph2.num_rows) return daph2.num_rows;
    if (readsTyped(daph2.encoding, decoder, hasDictionary)) return readPageV2(compressed, header, daph2, decoder, maxDefinition, scratch);
    const { definitionLevels, dataPage } = readDataPageV2(compressed, header, decoder);
    return { levels: definitionLevels, values: dataPage, encoding: daph2.encoding };
  }
  // Index pages and kinds the library does not know: it throws for them, with its own words.
  readPage(reader, header, decoder, undefined, undefined, 0);
  return undefined;
}

/**
 * Whether a page's values are read here, as the library reads them but into reused typed arrays:
 * plain values of any type but BOOLEAN, and dictionary indexes when the chunk has a dictionary.
 * The library reads every other page (booleans, delta and split encodings) itself.
 */
function readsTyped(encoding: string, decoder: ColumnDecoder, hasDictionary: boolean): boolean {
  if (decoder.type === 'BOOLEAN') return false;
  return encoding === 'PLAIN' || (hasDictionary && (encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY'));
}

/** A version 1 data page, decompressed: its definition levels (length-prefixed), then its values. */
function readPageV1(page: Uint8Array, daph: DataPageHeader, decoder: ColumnDecoder, maxDefinition: number, scratch: PageScratch): DataPageValues {
  const reader: DataReader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
  // A flat column has no repetition levels.
  let levels: Uint8Array | undefined;
  let nulls = 0;
  if (maxDefinition > 0) {
    levels = scratch.levelsFor(daph.num_values);
    readRleBitPackedHybrid(reader, bitWidth(maxDefinition), levels);
    for (let i = 0; i < levels.length; i++) if (levels[i] !== maxDefinition) nulls++;
    // As the library does: a page without NULLs is all values.
    if (nulls === 0) levels = undefined;
  }
  const count = daph.num_values - nulls;
  return { levels, values: readValues(reader, daph.encoding, decoder, count, 1, scratch), encoding: daph.encoding };
}

/** A version 2 data page: its levels stand uncompressed before its values. */
function readPageV2(bytes: Uint8Array, header: PageHeader, daph2: DataPageHeaderV2, decoder: ColumnDecoder, maxDefinition: number, scratch: PageScratch): DataPageValues {
  const reader: DataReader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: daph2.repetition_levels_byte_length };
  let levels: Uint8Array | undefined;
  if (maxDefinition > 0) {
    levels = scratch.levelsFor(daph2.num_values);
    readRleBitPackedHybrid(reader, bitWidth(maxDefinition), levels, daph2.definition_levels_byte_length);
  }
  const size = header.uncompressed_page_size - daph2.definition_levels_byte_length - daph2.repetition_levels_byte_length;
  let page = bytes.subarray(reader.offset);
  if (daph2.is_compressed !== false) page = decompressPage(page, size, decoder.codec, decoder.compressors);
  const pageReader: DataReader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
  const count = daph2.num_values - daph2.num_nulls;
  return { levels, values: readValues(pageReader, daph2.encoding, decoder, count, 2, scratch), encoding: daph2.encoding };
}

/** `count` values of a page that readsTyped accepts, from the reader's place on. */
function readValues(reader: DataReader, encoding: string, decoder: ColumnDecoder, count: number, version: 1 | 2, scratch: PageScratch): DecodedArray {
  if (encoding === 'PLAIN') return readPlain(reader, decoder.type, count, decoder.element.type_length);
  const width = reader.view.getUint8(reader.offset++);
  const indexes = scratch.indexesFor(count);
  // As the library reads them: a version 1 page of width 0 is all index 0 and holds no runs.
  if (version === 1 && width === 0) return indexes.fill(0);
  readRleBitPackedHybrid(reader, width, indexes, reader.view.byteLength - reader.offset);
  return indexes;
}

function bitWidth(value: number): number {
  return 32 - Math.clz32(value);
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
