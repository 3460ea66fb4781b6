import { describe, expect, it } from '@jest/globals';
import { formatRowRanges, mergeConfirmed } from '../../src/pipeline/powerbi-load.js';

describe('mergeConfirmed', () => {
  it('extends the confirmed prefix with the batch right after it', () => {
    expect(mergeConfirmed(200, [], { firstRow: 201, rows: 100 })).toEqual({ confirmedThrough: 300, confirmed: [] });
  });

  it('keeps a batch after a gap apart, joining neighbours, until the gap closes', () => {
    const gap = mergeConfirmed(100, [], { firstRow: 301, rows: 100 });
    expect(gap).toEqual({ confirmedThrough: 100, confirmed: [{ firstRow: 301, rows: 100 }] });
    const joined = mergeConfirmed(gap.confirmedThrough, gap.confirmed, { firstRow: 401, rows: 50 });
    expect(joined).toEqual({ confirmedThrough: 100, confirmed: [{ firstRow: 301, rows: 150 }] });
    expect(mergeConfirmed(joined.confirmedThrough, joined.confirmed, { firstRow: 101, rows: 200 })).toEqual({ confirmedThrough: 450, confirmed: [] });
  });

  it('starts from nothing', () => {
    expect(mergeConfirmed(0, [], { firstRow: 1, rows: 10 })).toEqual({ confirmedThrough: 10, confirmed: [] });
    expect(mergeConfirmed(0, [], { firstRow: 11, rows: 10 })).toEqual({ confirmedThrough: 0, confirmed: [{ firstRow: 11, rows: 10 }] });
  });
});

describe('formatRowRanges', () => {
  it('writes single rows, ranges and lists with thousands separators', () => {
    expect(formatRowRanges([{ firstRow: 7, rows: 1 }])).toBe('7');
    expect(formatRowRanges([{ firstRow: 1, rows: 2300 }])).toBe('1-2,300');
    expect(formatRowRanges([{ firstRow: 1, rows: 2000 }, { firstRow: 3001, rows: 1000 }, { firstRow: 9999, rows: 1 }])).toBe('1-2,000, 3,001-4,000 and 9,999');
    expect(formatRowRanges([])).toBe('none');
  });
});
