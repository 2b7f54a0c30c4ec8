/**
 * The flags every model command shares: where the model is, and every Encoder option. Values are
 * parsed here; their ranges are checked by Encoder's own validation, whose messages are then
 * given the flag's name.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ENCODER_OPTIONS, type FlagDeclaration, type OptionDeclaration } from '../option-declarations.js';
import type { EncoderOptions } from '../options.js';
import { fetchHubModel, hubRepoIdProblem, hubRevisionProblem, isHubRepoId } from '../hub/hub-download.js';
import { createProgress } from './progress.js';
import { runSignal } from './run-control.js';
import { UsageError } from './usage-error.js';
import { inSurfaceNames, renamingFields } from '../validation.js';

export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`expected an integer but received "${value}"`);
  return Number(value);
}

function collectIntegers(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), parseInteger(value)];
}

/** bert-as-service's NONE (no fixed length), made null by encoderOptionsFrom (commander turns a parsed null into ''), else an integer. */
function parseIntegerOrNone(value: string): number | 'NONE' {
  return value.toUpperCase() === 'NONE' ? 'NONE' : parseInteger(value);
}

/** Seconds, as a positive number (fractions allowed). */
function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(seconds > 0)) throw new InvalidArgumentError(`expected a positive number of seconds but received "${value}"`);
  return seconds;
}

function parseNumber(value: string): number {
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) throw new InvalidArgumentError(`expected a number but received "${value}"`);
  return Number(value);
}

export function addModelFlags(command: Command): Command {
  return command
    .requiredOption('-m, --model <dir|repo>', 'model directory, or a Hugging Face repo id downloaded once into the cache')
    .option('--revision <rev>', 'hub revision (branch, tag or commit) for a repo id', 'main')
    .option('-q, --quiet', 'no progress bar');
}

/** One flag as commander takes it, parsing its text as the declaration says. */
function commanderOption(spec: string, flag: FlagDeclaration, help: string): Option {
  const option = new Option(spec, help);
  if (flag.env) option.env(flag.env);
  if (flag.defaultValue !== undefined) option.default(flag.defaultValue);
  const { value } = flag;
  switch (value.kind) {
    case 'seconds':
      return option.argParser(parseSeconds);
    case 'choice':
      return option.choices(value.choices);
    case 'integer':
      return option.argParser(value.none ? parseIntegerOrNone : parseInteger);
    case 'integers':
      return option.argParser(collectIntegers);
    case 'number':
      return option.argParser(parseNumber);
    case 'texts':
      return option.argParser((text: string, previous: string[] | undefined) => [...(previous ?? []), text]);
    default:
      return option;
  }
}

/** The commander attribute each spelling of a declared flag sets. */
function attributesOf(declaration: FlaggedDeclaration): { flag: string; attribute: string }[] {
  const long = declaration.flag.spec.split(' ')[0];
  return [long, ...(declaration.flag.aliases ?? [])].map((flag) => ({ flag, attribute: new Option(flag).attributeName() }));
}

/** What a flag needs of a declaration (Encoder options and serve's own flags alike). */
interface FlaggedDeclaration {
  name: string;
  help: string;
  flag: FlagDeclaration;
}
const FLAGGED = (ENCODER_OPTIONS as readonly OptionDeclaration[]).filter((option): option is OptionDeclaration & FlaggedDeclaration => option.flag !== undefined);

/** Encoder option name → flag, for messages. */
const FLAG_OF = new Map(FLAGGED.map((option) => [option.name, option.flag.spec.split(' ')[0]]));

/** Every Encoder option's flag (or `only` those), from its declaration; `serve` also gets the serve-only ones (the queue bound). */
export function addEncoderFlags(command: Command, scope: { serve?: boolean; only?: readonly string[] } = {}): Command {
  const wanted = FLAGGED.filter((declaration) => (scope.serve || !declaration.flag.serveOnly) && (!scope.only || scope.only.includes(declaration.name)));
  return addDeclaredFlags(command, wanted);
}

/** The flags of these declarations, each with its hidden bert-as-service spellings. */
export function addDeclaredFlags(command: Command, declarations: readonly FlaggedDeclaration[]): Command {
  for (const declaration of declarations) {
    const { spec } = declaration.flag;
    command.addOption(commanderOption(spec, declaration.flag, declaration.help));
    for (const alias of declaration.flag.aliases ?? []) {
      const aliasSpec = [alias, ...spec.split(' ').slice(1)].join(' ');
      command.addOption(commanderOption(aliasSpec, declaration.flag, `same as ${spec.split(' ')[0]}`).hideHelp());
    }
  }
  return command;
}

/** What commander parsed from the declared flags (attributes by flag name; read through encoderOptionsFrom). */
export type EncoderFlagValues = Record<string, unknown>;

/** Encoder options from the parsed flags: each flag under its option's name, bert-as-service's spellings included. */
export function encoderOptionsFrom(flags: EncoderFlagValues): EncoderOptions {
  const options = declaredValuesFrom(flags, FLAGGED);
  // bert-as-service's device_map is GPU numbers.
  if (Array.isArray(options.devices)) options.devices = options.devices.map((device: string) => (/^\d+$/.test(device) ? `cuda:${device}` : device));
  return options as EncoderOptions;
}

/** The values of these declarations' flags, under the declarations' names; one given by two spellings is a usage error. */
export function declaredValuesFrom(flags: EncoderFlagValues, declarations: readonly FlaggedDeclaration[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const declaration of declarations) {
    const given = attributesOf(declaration).filter(({ attribute }) => flags[attribute] !== undefined);
    if (declaration.flag.value.kind === 'negated-switch') {
      // commander defaults a --no-x switch to true; only its use says something.
      if (given.some(({ attribute }) => flags[attribute] === false)) options[declaration.name] = false;
      continue;
    }
    if (given.length > 1) throw new UsageError(`${given.map(({ flag }) => flag).join(' and ')} are one option (${declaration.name}); give it once`);
    if (given.length !== 1) continue;
    const value = flags[given[0].attribute];
    options[declaration.name] = declaration.flag.value.kind === 'integer' && declaration.flag.value.none && value === 'NONE' ? null : value;
  }
  return options;
}

/** The API's option names as the CLI's flags. */
const FLAG_NAMING = renamingFields(Object.fromEntries(FLAG_OF));

/** Encoder's argument errors are the user's flags: say so with the flag's name (exit 2). `names` adds a command's own. */
export function asFlagError(error: unknown, names: Readonly<Record<string, string>> = {}): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError)) return error;
  const naming = Object.keys(names).length === 0 ? FLAG_NAMING : renamingFields({ ...Object.fromEntries(FLAG_OF), ...names });
  return new UsageError(inSurfaceNames(error, naming).message);
}

/** A local directory as is; a repo id from the cache, downloaded first if need be. */
export async function resolveModelDir(flags: { model: string; revision: string; quiet?: boolean }): Promise<string> {
  if (!isHubRepoId(flags.model)) return flags.model;
  // Checked here too (fetchHubModel refuses them as well), to name the flag: a usage error, exit 2.
  const repoProblem = hubRepoIdProblem(flags.model);
  if (repoProblem) throw new UsageError(`--model ${JSON.stringify(flags.model)} is no directory, nor a Hugging Face repo id (org/name: ${repoProblem})`);
  const revisionProblem = hubRevisionProblem(flags.revision);
  if (revisionProblem) throw new UsageError(`Expected a hub revision (a branch, tag or commit: ${revisionProblem}) for --revision but received ${JSON.stringify(flags.revision)}`);
  let progress: ReturnType<typeof createProgress> | undefined;
  let shown = 0;
  return fetchHubModel(flags.model, {
    revision: flags.revision,
    signal: runSignal,
    onProgress: (file, received, total) => {
      progress ??= createProgress(`MiB of ${file}`, total === undefined ? undefined : total / 2 ** 20, flags.quiet ?? false, (n) => n.toFixed(1));
      progress.advance((received - shown) / 2 ** 20);
      shown = received;
    },
    onFileDone: () => {
      progress?.finish();
      progress = undefined;
      shown = 0;
    },
  });
}
