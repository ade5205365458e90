import type { CompletionCommand, CompletionModel, CompletionOption } from './model.js';

/**
 * What the bash and zsh scripts share: both keep the completion spec in two case statements,
 * `<fn>_spec` (a command path's subcommands, options and arguments) and `<fn>_values` (an
 * option's values). They differ only in how a list is written (bash: one string of words, zsh:
 * an array) and in what a word offers (zsh adds a description for _describe).
 */
export interface ShDialect {
  /** An empty list: bash '', zsh (). */
  empty: string;
  /** A list of words: bash 'a b', zsh ('a' 'b'). */
  list(words: readonly string[]): string;
  /** What a subcommand or an option spelling completes to. */
  word(name: string, description: string): string;
}

/** Single quotes, as POSIX shells read them. */
export function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function shFunctionName(model: CompletionModel): string {
  return `_${model.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export function optionWords(options: readonly CompletionOption[], dialect: ShDialect): string[] {
  return options.flatMap((o) => o.names.map((n) => dialect.word(n, o.description)));
}

export function valueOptionNames(options: readonly CompletionOption[]): string[] {
  return options.filter((o) => o.takesValue).flatMap((o) => o.names);
}

/** The cases of `<fn>_spec`, one per command path. */
export function specCases(model: CompletionModel, dialect: ShDialect): string {
  return model.commands.map((command) => specCase(command, dialect)).join('\n');
}

/** The whole `<fn>_values` function. */
export function valuesFunction(fn: string, model: CompletionModel, dialect: ShDialect): string {
  const globalValueCases = model.globalOptions.filter(hasValueCompletion).map((o) => valueCase(o.names, o, dialect)).join('\n');
  const commandValueCases = model.commands
    .flatMap((command) =>
      command.options.filter(hasValueCompletion).map((o) => valueCase(o.names.map((n) => `${command.path.join(' ')}|${n}`), o, dialect)),
    )
    .join('\n');
  return `# Sets vals, files (1: complete file names) and dyn (values to ask gemwh for) for the value of option $2 in command path $1.
${fn}_values() {
  vals=${dialect.empty}; files=0; dyn=''
  case "$2" in
${globalValueCases}
  esac
  case "$1|$2" in
${commandValueCases}
  esac
}`;
}

function hasValueCompletion(option: CompletionOption): boolean {
  return option.values.length > 0 || option.files || option.dynamic !== undefined;
}

function specCase(command: CompletionCommand, dialect: ShDialect): string {
  const lines = [`    ${shQuote(command.path.join(' '))})`];
  if (command.subcommands.length > 0) lines.push(`      subs=${dialect.list(command.subcommands.map((s) => dialect.word(s.name, s.description)))}`);
  lines.push(`      opts=${dialect.list(optionWords(command.options, dialect))}`);
  const withValues = valueOptionNames(command.options);
  if (withValues.length > 0) lines.push(`      valopts=${dialect.list(withValues)}`);
  if (command.positional.values.length > 0) lines.push(`      args=${dialect.list(command.positional.values)}`);
  if (command.positional.files) lines.push('      argfiles=1');
  if (command.positional.dynamic) lines.push(`      argdyn=${command.positional.dynamic}`);
  lines.push('      ;;');
  return lines.join('\n');
}

function valueCase(patterns: readonly string[], option: CompletionOption, dialect: ShDialect): string {
  const body = [option.values.length > 0 ? `vals=${dialect.list(option.values)}` : '', option.files ? 'files=1' : '', option.dynamic ? `dyn=${option.dynamic}` : '']
    .filter(Boolean)
    .join('; ');
  return `    ${patterns.map(shQuote).join('|')}) ${body} ;;`;
}

/**
 * The shell function printing what `gemwh __complete <kind>` offers (`ID<TAB>description` lines),
 * or nothing: no gemwh on PATH and any error stay silent, as a TAB must.
 */
export function dynamicFunction(fn: string, model: CompletionModel): string {
  return `# Prints the lines gemwh offers for $1 at TAB time (webhook ids from the secret store: no network, no secrets).
${fn}_dynamic() {
  command ${model.name} __complete "$1" 2>/dev/null
}`;
}
