// Asks for a secret on the terminal without echoing it.

import { createInterface } from 'node:readline';
import { AuthError } from '../errors.js';
import type { CliIo } from './io.js';

export function promptHidden(question: string, io: CliIo): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
    // readline echoes typed characters through _writeToOutput; swallowing them hides the secret.
    const internal = rl as unknown as { _writeToOutput: (s: string) => void };
    let asked = false;
    internal._writeToOutput = (text: string) => {
      if (!asked) {
        io.stderr.write(text);
        asked = true;
      }
    };
    rl.question(question, (answer) => {
      io.stderr.write('\n');
      rl.close();
      if (!answer) reject(new AuthError('no password entered', { code: 'AUTH_MISSING' }));
      else resolve(answer);
    });
  });
}
