import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { removeJournalFile, writeFileAtomically } from '../../src/state/journal.js';

describe('journal files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mstrpush-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a journal in one piece, leaving no temporary file', async () => {
    const file = path.join(dir, 'runs', 'a.json');
    await writeFileAtomically(file, '{"v":1}');
    await writeFileAtomically(file, '{"v":2}');
    expect(readdirSync(path.join(dir, 'runs'))).toEqual(['a.json']);
  });

  it('removes a journal with the half-written copies a killed run left, and nothing of other journals', async () => {
    for (const name of ['a.json', 'a.json.4242.tmp', 'a.json.77.tmp', 'ab.json.5.tmp', 'b.json']) writeFileSync(path.join(dir, name), '{}');
    await removeJournalFile(path.join(dir, 'a.json'));
    expect(readdirSync(dir).sort()).toEqual(['ab.json.5.tmp', 'b.json']);
  });
});
