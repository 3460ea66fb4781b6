#!/usr/bin/env node
// Thin entry point: all logic lives in dist/cli/main.js (built from src/cli/main.ts).
import { run } from '../dist/cli/main.js';

// A reader that goes away early (`mstrpush --help | head`) is not an error of ours: stop quietly,
// as other command-line tools do, instead of dying on EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await run(process.argv.slice(2));
