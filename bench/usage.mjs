// Preloaded into every measured client process (`node --import usage.mjs ...`): on exit it writes
// the process's own CPU time, peak RSS (all threads) and wall time to the JSON file named by
// MSTRPUSH_BENCH_USAGE, so the parent measures the client alone, not the emulator.

import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

const target = process.env.MSTRPUSH_BENCH_USAGE;
if (target) {
  process.on('exit', (code) => {
    const usage = process.resourceUsage();
    const record = {
      userCPUTime: usage.userCPUTime, // microseconds
      systemCPUTime: usage.systemCPUTime, // microseconds
      maxRSS: usage.maxRSS, // KiB
      wallMs: performance.now(), // since the process started
      exitCode: code,
    };
    fs.writeFileSync(target, `${JSON.stringify(record)}\n`);
  });
}
