import { formatBytes, formatDuration, groupThousands, parseByteSize, parseDuration } from '../../src/util/units.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseByteSize', () => {
  it.each([
    ['300000', 300_000],
    ['1', 1],
    ['512KB', 512_000],
    ['512kb', 512_000],
    ['512 KB', 512_000],
    ['100MB', 100_000_000],
    ['100mb', 100_000_000],
    ['100M', 100_000_000],
    ['1.5GB', 1_500_000_000],
    ['2g', 2_000_000_000],
    ['1TB', 1_000_000_000_000],
    ['1KiB', 1024],
    ['1MiB', 1_048_576],
    ['1mib', 1_048_576],
    ['1.5KiB', 1536],
    ['2GiB', 2_147_483_648],
    ['1.1MB', 1_100_000],
    ['0.001KB', 1],
    ['64B', 64],
    ['64b', 64],
    ['  8MB  ', 8_000_000],
  ])('reads %j as %d bytes', (input, expected) => {
    expect(parseByteSize(input)).toBe(expected);
  });

  it('accepts a positive whole JS number as bytes', () => {
    expect(parseByteSize(4096)).toBe(4096);
  });

  it.each([
    ['0'],
    ['0MB'],
    ['-5'],
    ['-5MB'],
    ['1.5'],
    ['1.5B'],
    ['0.0001KB'],
    ['lots'],
    [''],
    ['10 parsecs'],
    ['MB'],
    ['1e6'],
    ['1,000'],
    ['99999999999TB'],
  ])('rejects %j with a usage error naming the value and showing examples', (input) => {
    const error = thrown(() => parseByteSize(input));
    expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect((error as Error).message).toContain(`'${input}'`);
    expect((error as Error).message).toContain('100MB');
    expect((error as Error).message).toContain('1MiB');
  });

  it.each([[0], [-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY]])('rejects the number %p', (input) => {
    expect(thrown(() => parseByteSize(input))).toMatchObject({ code: 'USAGE' });
  });
});

describe('parseDuration', () => {
  it.each([
    ['45', 45_000],
    ['0.5', 500],
    ['1500ms', 1500],
    ['90s', 90_000],
    ['1.5s', 1500],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['2H', 7_200_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['2m 5s', 125_000],
    ['1m500ms', 60_500],
    [' 10s ', 10_000],
  ])('reads %j as %d ms', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it('takes a JS number as milliseconds', () => {
    expect(parseDuration(1_800_000)).toBe(1_800_000);
  });

  it.each([['0'], ['0s'], ['-5s'], ['soon'], [''], ['10 minutes'], ['5min'], ['s'], ['1h30'], ['1d']])(
    'rejects %j with a usage error naming the value',
    (input) => {
      const error = thrown(() => parseDuration(input));
      expect(error).toMatchObject({ code: 'USAGE' });
      expect((error as Error).message).toContain(`'${input}'`);
      expect((error as Error).message).toContain('90s');
    },
  );

  it.each([[0], [-1000], [1.5]])('rejects the number %p', (input) => {
    expect(thrown(() => parseDuration(input))).toMatchObject({ code: 'USAGE' });
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [999, '999 B'],
    [1000, '1 KB'],
    [1536, '1.54 KB'],
    [100_000_000, '100 MB'],
    [1_048_576, '1.05 MB'],
    [999_999, '1 MB'],
    [1_500_000_000, '1.5 GB'],
    [2_500_000_000_000, '2.5 TB'],
    [5_000_000_000_000_000, '5000 TB'],
  ])('formats %d as %j', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });

  it('prints what parseByteSize reads back for round sizes', () => {
    for (const size of [1000, 512_000, 100_000_000, 1_500_000_000]) {
      expect(parseByteSize(formatBytes(size))).toBe(size);
    }
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [45_000, '45s'],
    [59_990, '1m'],
    [90_000, '1m 30s'],
    [125_000, '2m 5s'],
    [1_800_000, '30m'],
    [5_400_000, '1h 30m'],
    [7_200_000, '2h'],
    [3_661_000, '1h 1m 1s'],
  ])('formats %d ms as %j', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it('prints what parseDuration reads back', () => {
    for (const ms of [850, 1500, 45_000, 90_000, 1_800_000, 3_661_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe('groupThousands', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [999, '999'],
    [1000, '1,000'],
    [12_345, '12,345'],
    [2_286_398, '2,286,398'],
    [-1_234_567, '-1,234,567'],
    [Number.MAX_SAFE_INTEGER, '9,007,199,254,740,991'],
  ])('writes %d as %j', (n, expected) => {
    expect(groupThousands(n)).toBe(expected);
  });

  it('writes what toLocaleString en-US writes, fractions included', () => {
    for (const n of [1, 10, 100, 100_000, 1_000_000, 123_456_789, -5_000, 1234.5, 0.25]) {
      expect(groupThousands(n)).toBe(n.toLocaleString('en-US'));
    }
  });
});
