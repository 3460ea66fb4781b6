// Read floor: Node reading the input file in 1 MiB pieces without looking at the bytes, the
// fastest any pipeline in Node could go through this file. Prints {"bytes": n}.

import fs from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node read-floor.mjs <file>');
  process.exit(2);
}
let bytes = 0;
for await (const piece of fs.createReadStream(file, { highWaterMark: 1 << 20 })) bytes += piece.length;
process.stdout.write(`${JSON.stringify({ bytes })}\n`);
