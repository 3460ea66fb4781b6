import { describe, expect, it } from '@jest/globals';
import { createSchemaInferrer } from '../../src/schema/infer.js';
import type { RawCell, WireType } from '../../src/schema/types.js';
import {
  VALUE_KIND,
  classifyValue,
  conformsTo,
  createNullTokenTest,
  normalizeValue,
  typeFromKinds,
} from '../../src/schema/values.js';

/** The type whole-file inference gives one column holding `values`. */
function inferType(values: readonly RawCell[], nullTokens?: readonly string[]): WireType {
  const inferrer = createSchemaInferrer(['v'], nullTokens === undefined ? {} : { nullTokens });
  inferrer.add({ rows: values.map((v) => [v]), lines: values.map((_, i) => i + 2), bytesRead: 0 });
  return inferrer.finish()[0]!.type;
}

const classification: Array<[string, readonly string[], WireType]> = [
  // int32 edges
  ['small integers', ['1', '-7', '0', '-0'], 'INTEGER'],
  ['int32 max', ['2147483647'], 'INTEGER'],
  ['int32 min', ['-2147483648'], 'INTEGER'],
  ['int32 max + 1', ['2147483648'], 'BIGINTEGER'],
  ['int32 min - 1', ['-2147483649'], 'BIGINTEGER'],
  ['a 10-digit value below int32 max', ['1999999999'], 'INTEGER'],
  // int64 edges
  ['int64 max', ['9223372036854775807'], 'BIGINTEGER'],
  ['int64 min', ['-9223372036854775808'], 'BIGINTEGER'],
  ['int64 max + 1', ['9223372036854775808'], 'BIGDECIMAL'],
  ['int64 min - 1', ['-9223372036854775809'], 'BIGDECIMAL'],
  ['a 30-digit integer', ['123456789012345678901234567890'], 'BIGDECIMAL'],
  ['int32 and int64 values together', ['1', '5000000000'], 'BIGINTEGER'],
  // significant digits
  ['a simple decimal', ['1.5', '-0.25'], 'DOUBLE'],
  ['15 significant digits', ['1234567890123.45'], 'DOUBLE'],
  ['16 significant digits', ['12345678901234.56'], 'BIGDECIMAL'],
  ['17 significant digits', ['0.12345678901234567'], 'BIGDECIMAL'],
  ['leading fraction zeros that are not significant', ['0.000000000000000000001'], 'DOUBLE'],
  ['trailing zeros that are not significant', ['1.50000000000000000000'], 'DOUBLE'],
  ['a 15-digit integer beside a decimal', ['123456789012345', '0.5'], 'DOUBLE'],
  ['a 16-digit integer beside a decimal', ['1234567890123456', '0.5'], 'BIGDECIMAL'],
  ['a 17-digit integer beside a decimal', ['12345678901234567', '0.5'], 'BIGDECIMAL'],
  ['integers and decimals', ['1', '2.5', '-3'], 'DOUBLE'],
  ['16 significant digits spanning the point', ['1000000000000000.5'], 'BIGDECIMAL'],
  ['one significant digit and a zero fraction', ['1000000000000000.0'], 'DOUBLE'],
  ['16 significant digits after the point', ['0.1000000000000001'], 'BIGDECIMAL'],
  ['15 significant digits and a zero fraction', ['123456789012345.000'], 'DOUBLE'],
  ['16 significant digits with an exponent', ['1234567890123456e0'], 'BIGDECIMAL'],
  ['zero written as a decimal', ['0.0', '-0.000'], 'DOUBLE'],
  // exponents
  ['exponents', ['1e5', '1E-5', '2.5e+10', '-3.25E2'], 'DOUBLE'],
  ['the largest safe exponent', ['9.99e307'], 'DOUBLE'],
  ['an exponent past the double range', ['1e400'], 'BIGDECIMAL'],
  ['an exponent below the normal double range', ['1e-400'], 'BIGDECIMAL'],
  ['zero with a huge exponent', ['0e999'], 'DOUBLE'],
  ['a leading digit at 10^307', ['12e306'], 'DOUBLE'],
  ['a leading digit at 10^308', ['100e306'], 'BIGDECIMAL'],
  ['a leading digit at 10^-307', ['0.01e-305'], 'DOUBLE'],
  ['a leading digit at 10^-308', ['0.001e-305'], 'BIGDECIMAL'],
  ['an absurdly long exponent', ['1e99999999999999999999'], 'BIGDECIMAL'],
  ['a number like a date that is not one', ['123e-56789'], 'BIGDECIMAL'],
  // not JSON numbers
  ['a leading-zero code', ['00123'], 'STRING'],
  ['leading-zero codes among integers', ['1', '00123', '7'], 'STRING'],
  ['a plus sign', ['+5'], 'STRING'],
  ['a bare fraction', ['.5'], 'STRING'],
  ['a trailing dot', ['1.'], 'STRING'],
  ['a thousands separator', ['1,234'], 'STRING'],
  ['NaN', ['NaN'], 'STRING'],
  ['Infinity', ['Infinity'], 'STRING'],
  ['a lone minus', ['-'], 'STRING'],
  ['an empty exponent', ['1e'], 'STRING'],
  ['an exponent sign without digits', ['1e+'], 'STRING'],
  ['hex', ['0x1F'], 'STRING'],
  ['surrounding spaces', [' 1'], 'STRING'],
  ['a trailing space', ['1 '], 'STRING'],
  ['a double minus', ['--1'], 'STRING'],
  // dates
  ['a leap day in a leap year', ['2024-02-29'], 'DATE'],
  ['a leap day in a common year', ['2023-02-29'], 'STRING'],
  ['a leap day in a century year', ['1900-02-29'], 'STRING'],
  ['a leap day in a 400th year', ['2000-02-29'], 'DATE'],
  ['the first and last supported days', ['0001-01-01', '9999-12-31'], 'DATE'],
  ['year zero', ['0000-01-01'], 'STRING'],
  ['month 13', ['2024-13-01'], 'STRING'],
  ['April 31', ['2024-04-31'], 'STRING'],
  ['day zero', ['2024-04-00'], 'STRING'],
  ['an unpadded date', ['2024-1-5'], 'STRING'],
  ['a date with trailing text', ['2024-01-01x'], 'STRING'],
  ['a slashed date', ['2024/01/01'], 'STRING'],
  // times
  ['times', ['00:00', '23:59:59', '12:30:45.123456789', '12:30:45.5'], 'TIME'],
  ['ten fraction digits', ['12:30:45.1234567890'], 'STRING'],
  ['hour 24', ['24:00:00'], 'STRING'],
  ['minute 60', ['12:60'], 'STRING'],
  ['second 60', ['12:30:60'], 'STRING'],
  ['an unpadded hour', ['1:30'], 'STRING'],
  ['an empty fraction', ['12:30:45.'], 'STRING'],
  ['a zoned time', ['12:30Z'], 'STRING'],
  ['a fraction without seconds', ['12:30.5'], 'STRING'],
  // datetimes
  ['T-separated datetimes', ['2024-01-02T03:04:05', '2024-01-02T03:04'], 'DATETIME'],
  ['space-separated datetimes', ['2024-01-02 03:04:05.5'], 'DATETIME'],
  [
    'every zone form',
    ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05z', '2024-01-02T03:04+05:30', '2024-01-02 03:04:05-0800', '2024-01-02T03:04:05.1+05'],
    'DATETIME',
  ],
  ['a one-digit zone hour', ['2024-01-02T03:04:05+5'], 'STRING'],
  ['a one-digit zone minute', ['2024-01-02T03:04:05+05:3'], 'STRING'],
  ['a zone hour of 24', ['2024-01-02T03:04:05+24:00'], 'STRING'],
  ['two separating spaces', ['2024-01-02  03:04'], 'STRING'],
  ['a separator without a time', ['2024-01-02T'], 'STRING'],
  ['an hour without minutes', ['2024-01-02T03'], 'STRING'],
  ['an invalid date with a time', ['2023-02-29T00:00:00'], 'STRING'],
  ['a zone that moves the value before year 1', ['0001-01-01T00:30:00+01:00'], 'STRING'],
  ['dates and datetimes', ['2024-01-02', '2024-01-02T03:04:05'], 'DATETIME'],
  ['dates and times', ['2024-01-02', '03:04:05'], 'STRING'],
  ['dates and integers', ['2024-01-02', '7'], 'STRING'],
  // booleans
  ['booleans in any case', ['true', 'FALSE', 'True', 'tRuE', 'false'], 'BOOL'],
  ['yes and no', ['yes', 'no'], 'STRING'],
  ['zero and one', ['0', '1'], 'INTEGER'],
  ['booleans and digits', ['true', '1'], 'STRING'],
  ['a single letter', ['t'], 'STRING'],
  ['a near miss', ['truth'], 'STRING'],
  // nulls
  ['integers among every default null token', ['', 'NULL', 'null', 'NA', 'N/A', '#N/A', '12'], 'INTEGER'],
  ['a null token in another case', ['Null', '1'], 'STRING'],
  ['only null tokens', ['', 'NA', 'NULL'], 'STRING'],
  ['plain text', ['hello', 'world'], 'STRING'],
];

describe('whole-column classification', () => {
  it.each(classification)('types %s as expected', (_label, values, expected) => {
    expect(inferType(values)).toBe(expected);
  });

  it('treats a source null cell as NULL', () => {
    expect(inferType([null, '3', null])).toBe('INTEGER');
  });

  it('treats only the configured tokens as null', () => {
    expect(inferType(['-', '3'], ['-'])).toBe('INTEGER');
    expect(inferType(['', '3'], ['-'])).toBe('STRING');
    expect(inferType(['NA', '3'], ['-'])).toBe('STRING');
  });
});

describe('classifyValue', () => {
  it('flags a long integer inside int64 as wide but not huge', () => {
    const kind = classifyValue('9223372036854775807');
    expect(kind & VALUE_KIND.INT64).toBeTruthy();
    expect(kind & VALUE_KIND.WIDE).toBeTruthy();
    expect(kind & VALUE_KIND.HUGE).toBe(0);
  });

  it('classifies a beyond-int64 round number without losing it to a double', () => {
    const kind = classifyValue('10000000000000000000');
    expect(kind).toBe(VALUE_KIND.INT_BIG);
    expect(typeFromKinds(kind)).toBe('BIGDECIMAL');
  });
});

describe('conformsTo', () => {
  it.each<[WireType, string, boolean]>([
    ['INTEGER', '2147483647', true],
    ['INTEGER', '2147483648', false],
    ['INTEGER', '1.0', false],
    ['BIGINTEGER', '2147483648', true],
    ['BIGINTEGER', '9223372036854775808', false],
    ['DOUBLE', '12345678901234567890.5', true],
    ['DOUBLE', '1e400', false],
    ['BIGDECIMAL', '1e400', true],
    ['BIGDECIMAL', '12x', false],
    ['BOOL', 'TRUE', true],
    ['BOOL', '1', false],
    ['DATE', '2024-02-29', true],
    ['DATE', '2024-02-29T00:00:00', false],
    ['TIME', '12:00', true],
    ['DATETIME', '2024-02-29', true],
    ['DATETIME', '12:00', false],
  ])('says whether %s accepts %s', (type, value, expected) => {
    expect(conformsTo(type, classifyValue(value))).toBe(expected);
  });
});

describe('normalizeValue', () => {
  it.each<[string, string]>([
    ['2024-01-02T03:04:05', '2024-01-02T03:04:05'],
    ['2024-01-02 03:04', '2024-01-02T03:04:00'],
    ['2024-01-02t03:04:05', '2024-01-02T03:04:05'],
    ['2024-01-02T03:04:05.500', '2024-01-02T03:04:05.5'],
    ['2024-01-02T03:04:05.000', '2024-01-02T03:04:05'],
    ['2024-01-02T03:04:05.123456789', '2024-01-02T03:04:05.123456789'],
    ['2024-01-02', '2024-01-02T00:00:00'],
    ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05'],
    ['2024-01-02 03:04:05z', '2024-01-02T03:04:05'],
    ['2024-01-02T03:04:05.5+00:00', '2024-01-02T03:04:05.5'],
    ['2024-01-02 03:04:05.25', '2024-01-02T03:04:05.25'],
    ['2024-01-02T03:04:05.120-00:00', '2024-01-02T03:04:05.12'],
    ['2024-06-15T12:00:00+05:45', '2024-06-15T06:15:00'],
    // crossing a day, a month, a leap-year February, a common-year February, a year
    ['2024-01-31T22:00:00-05:00', '2024-02-01T03:00:00'],
    ['2024-03-01T00:30+0100', '2024-02-29T23:30:00'],
    ['2023-03-01T00:30+01', '2023-02-28T23:30:00'],
    ['2024-04-30 20:00:00.250-08', '2024-05-01T04:00:00.25'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00'],
    ['2024-12-31T23:30:00-01:00', '2025-01-01T00:30:00'],
    ['2024-12-31T23:59:59.999999999-23:59', '2025-01-01T23:58:59.999999999'],
    ['0099-01-01T00:00+01', '0098-12-31T23:00:00'],
    ['0001-01-01T01:30:00+01:00', '0001-01-01T00:30:00'],
  ])('writes DATETIME %s as %s', (input, expected) => {
    expect(normalizeValue('DATETIME', input)).toBe(expected);
  });

  it('rejects a zone conversion that leaves years 0001-9999', () => {
    expect(normalizeValue('DATETIME', '0001-01-01T00:30:00+01:00')).toBeUndefined();
    expect(normalizeValue('DATETIME', '9999-12-31T23:30:00-01:00')).toBeUndefined();
    expect(normalizeValue('DATETIME', '9999-12-31T23:30:00+01:00')).toBe('9999-12-31T22:30:00');
  });

  it.each<[string, string]>([
    ['12:30', '12:30:00'],
    ['12:30:45', '12:30:45'],
    ['12:30:45.000', '12:30:45'],
    ['12:30:45.1200', '12:30:45.12'],
    ['00:00:00.000000001', '00:00:00.000000001'],
  ])('writes TIME %s as %s', (input, expected) => {
    expect(normalizeValue('TIME', input)).toBe(expected);
  });

  it('writes booleans in lower case', () => {
    expect(normalizeValue('BOOL', 'TRUE')).toBe('true');
    expect(normalizeValue('BOOL', 'False')).toBe('false');
    expect(normalizeValue('BOOL', 'yes')).toBeUndefined();
  });

  it('keeps number text unchanged and rejects what the type cannot hold', () => {
    expect(normalizeValue('BIGDECIMAL', '123456789012345678901234567890.000000001')).toBe(
      '123456789012345678901234567890.000000001',
    );
    expect(normalizeValue('DOUBLE', '1.5E-3')).toBe('1.5E-3');
    expect(normalizeValue('INTEGER', '2147483648')).toBeUndefined();
    expect(normalizeValue('BIGINTEGER', '2147483648')).toBe('2147483648');
    expect(normalizeValue('DOUBLE', '1e400')).toBeUndefined();
    expect(normalizeValue('INTEGER', '')).toBeUndefined();
  });

  it('keeps DATE text and rejects invalid dates and datetimes', () => {
    expect(normalizeValue('DATE', '2024-02-29')).toBe('2024-02-29');
    expect(normalizeValue('DATE', '2023-02-29')).toBeUndefined();
    expect(normalizeValue('DATE', '2024-02-28T00:00')).toBeUndefined();
  });
});

describe('createNullTokenTest', () => {
  it('matches tokens exactly and case-sensitively', () => {
    const isNull = createNullTokenTest();
    expect(['', 'NULL', 'null', 'NA', 'N/A', '#N/A'].every(isNull)).toBe(true);
    expect(['Null', 'na', ' ', 'NULLS', 'n/a'].some(isNull)).toBe(false);
  });

  it('matches nothing when no tokens are configured', () => {
    expect(createNullTokenTest([])('')).toBe(false);
  });
});
