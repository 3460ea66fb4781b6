// The description of an emulator's tunable behaviours that `mstrpush emulator <kind> --help` and
// the option parser are generated from; each emulator lists its own.

export type EmulatorSwitchKind = 'boolean' | 'integer' | 'number' | 'choice' | 'string';

/** One tunable behaviour of an emulator with options `Options`, as the CLI shows it: `--${flag}`. */
export interface EmulatorSwitchOf<Options> {
  name: keyof Options;
  flag: string;
  kind: EmulatorSwitchKind;
  choices?: readonly string[];
  /** The default as the user would type it; `(none)` when unset. */
  default: string;
  /** The flag may be given several times; the values are collected into a list. */
  repeatable?: boolean;
  description: string;
}
