#!/usr/bin/env node
// Thin entry point: all logic lives in dist/cli/main.js (built from src/cli/main.ts).
import { run } from '../dist/cli/main.js';

// A reader that goes away early (`mstrpush --help | head`) is not an error of ours: the output is
// dropped and the command runs to its end (a load still finishes or cancels cleanly), instead of
// dying on EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    throw error;
  });
}

process.exitCode = await run(process.argv.slice(2));
