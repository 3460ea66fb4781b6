// Command-line entry: declares the commands and their options, runs one, and maps whatever
// happens to an exit code. The only module that touches process.argv, signals and exit codes.

import { Command, CommanderError, Option } from 'commander';
import { EXIT_CODES, InterruptedError, UsageError } from '../errors.js';
import { describeSwitches } from '../emulator/mstr/options.js';
import { describeSwitches as describePowerBiSwitches } from '../emulator/powerbi/options.js';
import { STDIN_MARKER } from '../pipeline/inputs.js';
import { reportError } from './exit.js';
import type { CliIo } from './io.js';
import { defaultIo } from './io.js';

const VERSION = '0.1.0';

export async function run(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      io.stderr.write(`\nmstrpush: ${signal} received, stopping (press Ctrl-C again to quit at once)\n`);
      // The reason is what every throwIfAborted() throws: an interrupt (exit 130), not an internal error.
      controller.abort(new InterruptedError(`interrupted by ${signal}`));
    } else {
      io.exit(EXIT_CODES.interrupted);
    }
  };
  const removeSignals = io.onSignals(onSignal);
  const state: CommandState = { exitCode: EXIT_CODES.ok, debug: argv.includes('--debug'), redact: (t) => t };
  try {
    const program = buildProgram(io, controller.signal, state, argv);
    await program.parseAsync(argv.map(protectStdinArgument), { from: 'user' });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; everything else is a usage error.
      if (error.exitCode === 0) return EXIT_CODES.ok;
      return EXIT_CODES.usage;
    }
    const report = reportError(error, { debug: state.debug, redact: state.redact });
    for (const line of report.lines) io.stderr.write(`${line}\n`);
    return report.exitCode;
  } finally {
    removeSignals();
  }
}

export interface CommandState {
  exitCode: number;
  debug: boolean;
  /** Set once secrets are known, so error output is scrubbed of them. */
  redact: (text: string) => string;
}

/**
 * `-:Sales` (stdin loaded as table Sales) starts with a dash, so commander would take it for an
 * option; a marker character keeps it positional until parseInputSpec reads it.
 */
function protectStdinArgument(arg: string): string {
  return arg.startsWith('-:') ? `${STDIN_MARKER}${arg}` : arg;
}

/** Options the user typed; commander's defaults must not overrule config files and the environment. */
function explicitOptions(cmd: Command): Record<string, unknown> {
  const explicit: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cmd.opts())) {
    if (cmd.getOptionValueSource(key) === 'cli') explicit[key] = value;
  }
  return explicit;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function addConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', 'REST API root, e.g. https://bi.example.com/MicroStrategyLibrary/api (env MSTRPUSH_URL)')
    .option('--username <name>', 'user to log in as (env MSTRPUSH_USERNAME)')
    .option('--password-file <file>', 'read the password from this file (or env MSTRPUSH_PASSWORD, or a prompt on a terminal)')
    .option('--login-mode <mode>', 'standard (1), ldap (16) or apiToken (4096) (env MSTRPUSH_LOGIN_MODE)')
    .option('--project <name>', 'project name, looked up in the project list (env MSTRPUSH_PROJECT)')
    .option('--project-id <id>', 'project id, 32 hex digits (env MSTRPUSH_PROJECT_ID)')
    .addOption(new Option('--target <target>', 'the server kind (env MSTRPUSH_TARGET)').choices(['mstr', 'powerbi']))
    .option('--api-url <url>', 'Power BI: REST root up to /v1.0/myorg (env MSTRPUSH_API_URL; default https://api.powerbi.com/v1.0/myorg)')
    .option('--authority-url <url>', 'Power BI: sign-in host (env MSTRPUSH_AUTHORITY_URL; default https://login.microsoftonline.com)')
    .option('--tenant <id>', 'Power BI: tenant id or domain (env MSTRPUSH_TENANT)')
    .option('--client-id <id>', 'Power BI: app (client) id (env MSTRPUSH_CLIENT_ID)')
    .option('--client-secret-file <file>', 'Power BI: read the client secret from this file (or env MSTRPUSH_CLIENT_SECRET, or a prompt)')
    .option('--group <id>', 'Power BI: workspace id (env MSTRPUSH_GROUP)')
    .option('--profile <name>', 'named profile of the config file (env MSTRPUSH_PROFILE)')
    .option('--retries <n>', 'retries of a failed request (network errors, 429, 5xx) before giving up (default 5)')
    .option('--allow-http', 'allow a plain http:// URL to a host other than this machine')
    .option('--ca-file <file>', 'PEM file of CA certificates to trust besides the built-in ones (NODE_EXTRA_CA_CERTS works too)')
    .option('--insecure', 'do not verify the server certificate (warns on every run)')
    .option('--config <file>', 'config file to use instead of searching for .mstrpushrc and friends')
    .option('--no-config', 'do not read any config file');
}

function addOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print the result as one JSON object on stdout')
    .option('-q, --quiet', 'no progress or status lines on stderr (warnings and errors still show)')
    .option('-v, --verbose', 'log each HTTP exchange and where each setting came from')
    .option('--debug', 'also print stack traces of errors');
}

function addCsvOptions(command: Command): Command {
  return command
    .option('--delimiter <char>', 'field delimiter: , ; tab | or any single character (default: detected)')
    .option('--quote <char>', "quote character (default: detected, \" or '); '' turns quoting off")
    .option('--no-header', 'the first row is data; columns are named column_1, column_2, ...')
    .option('--null-values <list>', 'comma-separated tokens read as NULL (default: ",NULL,null,NA,N/A,#N/A", i.e. empty too)')
    .option('--type <column=TYPE>', 'force a column type: STRING INTEGER BIGINTEGER DOUBLE BIGDECIMAL BOOL DATE TIME DATETIME (repeatable)', collect, [])
    .option('--schema <file>', 'JSON file of column types and roles: {"columns": {"zip": "STRING", "amount": {"type": "BIGDECIMAL", "role": "metric"}}}')
    .option('--attribute <column>', 'make this column an attribute (repeatable)', collect, [])
    .option('--metric <column>', 'make this numeric column a metric (repeatable)', collect, [])
    .addOption(new Option('--format <format>', 'input format (default: .parquet and .pq files are Parquet, others CSV)').choices(['csv', 'parquet']))
    .option('--exclude <column>', 'leave this column out of every input that has it (repeatable)', collect, [])
    .option('--binary-as-string', 'read Parquet BINARY columns without a logical type as UTF-8 text');
}

function addLoadOptions(command: Command): Command {
  return command
    .option('--batch-rows <n>', 'Power BI: rows per POST request, 1 to 10000 (default 10000)')
    .option('--resume', 'continue an unfinished run of this same command (same files, target and dataset) in its upload session; without one, a plain run')
    .option('--restart', 'cancel the unfinished run of this command, if any, and start over')
    .option('--keep-session', 'on failure or Ctrl-C, leave the upload session open for --resume instead of cancelling it (Power BI create: keep the new dataset instead of deleting it)')
    .option('--state-dir <dir>', 'where run journals are kept (default $XDG_STATE_HOME/mstrpush or ~/.local/state/mstrpush)')
    .option('--chunk-size <size>', 'largest chunk of JSON per request: bytes or 512KB, 100MB, 1MiB (default 100MB)')
    .option('--timeout <duration>', 'how long to wait for the publication: 90s, 30m, 2h (default 30m)')
    .option('--poll-interval <duration>', 'longest pause between publication status checks (default 1s)');
}

const CREATE_EXAMPLES = `
Examples:
  $ mstrpush create sales.csv --name "Sales 2026"
  $ mstrpush create orders.csv customers.csv:Customers --name Shop
  $ zcat big.csv.gz | mstrpush create -:Sales --name Sales --chunk-size 50MB --quiet --json
  $ mstrpush create data.csv --name Data --type zip=STRING --attribute store_no`;

const APPEND_EXAMPLES = `
Examples:
  $ mstrpush append 105E10C94CF881BE3DDBA6B97E61FBC5 sales-2026-11-21.csv
  $ mstrpush append 105E10C94CF881BE3DDBA6B97E61FBC5 prices.csv:Sales --policy upsert
  $ mstrpush append 105E10C94CF881BE3DDBA6B97E61FBC5 big.csv --no-publish   # prints the upload session id`;

function buildProgram(io: CliIo, signal: AbortSignal, state: CommandState, argv: readonly string[]): Command {
  const program = new Command('mstrpush')
    .description('Push CSV and Parquet files into MicroStrategy datasets (REST Push Data API) or Power BI push datasets.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`mstrpush: ${text.replace(/^error: /, 'error: ')}`),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 2 usage, 3 config, 4 input, 5 authentication, 6 server or network,
            7 partly uploaded (not published), 130 interrupted.
Run "mstrpush <command> --help" for a command's options and examples.`,
    );

  const runCommand = async (action: () => Promise<number | void>) => {
    const code = await action();
    state.exitCode = typeof code === 'number' ? code : EXIT_CODES.ok;
  };
  const context = (cmd: Command) => ({ io, signal, state, explicit: explicitOptions(cmd), argv });

  const create = program
    .command('create')
    .description('create a dataset from one or more files (one table per file), upload and publish it')
    .argument('<files...>', 'input files: path[:TableName]; - reads standard input')
    .requiredOption('--name <name>', 'name of the new dataset')
    .option('--description <text>', 'dataset description')
    .option('--folder <id>', 'folder id to create the dataset in (default: My Reports)')
    .addOption(new Option('--retention <policy>', 'Power BI: retention policy of the new dataset').choices(['none', 'basicFIFO']).default('none'))
    .option('--no-publish', 'upload but do not publish; prints the upload session id')
    .option('--no-wait', 'start the publication and return without waiting for it');
  addCsvOptions(create);
  addLoadOptions(create);
  addConnectionOptions(create);
  addOutputOptions(create).addHelpText('after', CREATE_EXAMPLES);
  create.action(async (files: string[], opts: Record<string, unknown>, cmd: Command) =>
    runCommand(async () => (await import('./commands/load.js')).runCreate(files, opts, context(cmd))),
  );

  const append = program
    .command('append')
    .description('add the rows of one or more files to tables of an existing dataset, then publish')
    .argument('<datasetId>', 'id of the dataset')
    .argument('<files...>', 'input files: path[:TableName]; the table defaults to the file name, or the only table')
    .addOption(new Option('--policy <policy>', 'how rows are applied').choices(['add', 'update', 'upsert', 'replace']).default('add'))
    .option('--no-publish', 'leave the upload session open (prints its id) for a later "mstrpush publish"')
    .option('--no-wait', 'start the publication and return without waiting for it');
  addCsvOptions(append);
  addLoadOptions(append);
  addConnectionOptions(append);
  addOutputOptions(append).addHelpText('after', APPEND_EXAMPLES);
  append.action(async (datasetId: string, files: string[], opts: Record<string, unknown>, cmd: Command) =>
    runCommand(async () => (await import('./commands/load.js')).runAppend(datasetId, files, opts, context(cmd))),
  );

  const publish = program
    .command('publish')
    .description('publish an upload session left open by --no-publish, and wait for it')
    .argument('<datasetId>', 'id of the dataset')
    .option('--session <uploadSessionId>', 'the upload session to publish (MicroStrategy)')
    .option('--no-wait', 'start the publication and return without waiting for it')
    .option('--timeout <duration>', 'how long to wait for the publication (default 30m)')
    .option('--poll-interval <duration>', 'longest pause between status checks (default 1s)');
  addConnectionOptions(publish);
  addOutputOptions(publish).addHelpText(
    'after',
    '\nExample:\n  $ mstrpush publish 105E10C94CF881BE3DDBA6B97E61FBC5 --session 9A4EE1C04C4EA20C8A976A8172034DD0',
  );
  publish.action(async (datasetId: string, opts: Record<string, unknown>, cmd: Command) =>
    runCommand(async () => (await import('./commands/remote.js')).runPublish(datasetId, opts, context(cmd))),
  );

  const status = program
    .command('status')
    .description('show a dataset: tables, columns, types and roles, and the publication status of a session')
    .argument('<datasetId>', 'id of the dataset')
    .option('--session <uploadSessionId>', 'also show this upload session\'s publication status');
  addConnectionOptions(status);
  addOutputOptions(status).addHelpText('after', '\nExample:\n  $ mstrpush status 105E10C94CF881BE3DDBA6B97E61FBC5 --json');
  status.action(async (datasetId: string, opts: Record<string, unknown>, cmd: Command) =>
    runCommand(async () => (await import('./commands/remote.js')).runStatus(datasetId, opts, context(cmd))),
  );

  const schema = program
    .command('schema')
    .description('print the schema mstrpush would create for files, without contacting any server')
    .argument('<files...>', 'input files: path[:TableName]; - reads standard input');
  addCsvOptions(schema);
  addOutputOptions(schema).addHelpText('after', '\nExamples:\n  $ mstrpush schema sales.csv\n  $ mstrpush schema sales.csv --type zip=STRING --json');
  schema.action(async (files: string[], opts: Record<string, unknown>, cmd: Command) =>
    runCommand(async () => (await import('./commands/schema.js')).runSchema(files, opts, context(cmd))),
  );

  const emulator = program
    .command('emulator')
    .description('run a bundled strict emulator of a server API on 127.0.0.1 (for demos and tests)');
  const emulatorKinds = [
    {
      kind: 'mstr',
      description: 'the MicroStrategy REST Push Data API',
      switches: describeSwitches(),
      examples:
        '\nExamples:\n  $ mstrpush emulator mstr --port 8080 --publish-outcome fail --session-idle-seconds 30\n  $ mstrpush emulator mstr --fail chunk#2=503 --fail chunk#3=reset-after --fail model=429:5',
    },
    {
      kind: 'powerbi',
      description: 'the Power BI push-dataset REST API and its token endpoint',
      switches: describePowerBiSwitches(),
      examples:
        '\nExamples:\n  $ mstrpush emulator powerbi --port 8081\n  $ mstrpush emulator powerbi --time-scale 60 --token-lifetime-seconds 30\n  $ mstrpush emulator powerbi --fail rows#2=503 --fail create=reset-after --fail rows#3=429:5',
    },
  ] as const;
  for (const { kind, description, switches, examples } of emulatorKinds) {
    const sub = emulator
      .command(kind)
      .description(`emulate ${description}`)
      .option('--json', 'print the URLs and credentials as one JSON line')
      .option('-v, --verbose', 'log every request on stderr');
    if (kind === 'mstr') sub.option('--user <name:password>', 'accepted login (repeatable; default etl:etl-secret)', collect, []);
    for (const sw of switches) {
      const choices = sw.choices ? ` (${sw.choices.join('|')})` : sw.kind === 'boolean' ? ' (true|false)' : '';
      const repeatable = 'repeatable' in sw && sw.repeatable === true;
      const flag = `--${sw.flag} <${sw.kind === 'choice' ? 'choice' : sw.kind === 'boolean' ? 'bool' : repeatable ? 'rule' : 'value'}>`;
      const text = `${sw.description}${choices}${repeatable ? '' : ` [default: ${sw.default}]`}`;
      if (repeatable) sub.option(flag, text, collect, []);
      else sub.option(flag, text);
    }
    sub.addHelpText('after', examples);
    sub.action(async (opts: Record<string, unknown>, cmd: Command) =>
      runCommand(async () => (await import('./commands/emulator.js')).runEmulator(kind, opts, context(cmd))),
    );
  }

  program.command('help', { hidden: true }).argument('[command]').action((name?: string) => {
    const target = name ? program.commands.find((c) => c.name() === name) : undefined;
    if (name && !target) throw new UsageError(`unknown command "${name}"`);
    (target ?? program).outputHelp();
  });

  return program;
}
