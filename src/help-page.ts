import { readFileSync } from 'node:fs';
import { helpTopicUrl, isHelpTopic } from './help-topics.js';

// `gemwh --version` and `gemwh <command> --help` print without loading commander or any command
// module: those cost more than half of node's own start-up. Each command's help is kept as a
// text file in src/help-pages/, rendered by commander from the real program at 80 columns;
// test/help.test.ts fails when one is stale or missing (UPDATE_HELP=1 rewrites them). Anything
// else — other flags beside --help, a terminal narrower than the page — takes commander's path.

export const HELP_PAGE_WIDTH = 80;

/** `gemwh replay fixture` -> src/help-pages/gemwh-replay-fixture.txt (src/ ships with the package). */
export function helpPageUrl(commandPath: readonly string[]): URL {
  return new URL(`../src/help-pages/${['gemwh', ...commandPath].join('-')}.txt`, import.meta.url);
}

/** The command path whose help argv asks for and nothing else: `[...path, --help|-h]` or `help [command]`. */
export function plainHelpRequest(argv: readonly string[]): string[] | undefined {
  const last = argv.at(-1);
  if (last === '--help' || last === '-h') return commandWords(argv.slice(0, -1));
  // Commander's `help` takes one command name (`help secret list` shows secret's help).
  if (argv[0] === 'help' && argv.length <= 2) return commandWords(argv.slice(1));
  return undefined;
}

// Command names are lower-case words; anything else (a flag, a value) is not a plain request.
function commandWords(words: readonly string[]): string[] | undefined {
  return words.every((word) => /^[a-z][a-z-]*$/.test(word)) ? [...words] : undefined;
}

/** The pre-rendered page for argv, or undefined when commander has to render it. */
export function preRenderedHelp(argv: readonly string[], stdout: { isTTY?: boolean; columns?: number }): string | undefined {
  // `gemwh help <topic>`: a page of long-form documentation, plain markdown at any width.
  if (argv.length === 2 && argv[0] === 'help' && isHelpTopic(argv[1]!)) return readFileSync(helpTopicUrl(argv[1]!), 'utf8');
  const path = plainHelpRequest(argv);
  if (!path) return undefined;
  if (stdout.isTTY && (stdout.columns ?? 0) < HELP_PAGE_WIDTH) return undefined;
  try {
    return readFileSync(helpPageUrl(path), 'utf8');
  } catch {
    // Not a command (an argument that looks like one, a typo): commander explains.
    return undefined;
  }
}

/** `gemwh --version` / `-V`: the version is all it prints. */
export function isPlainVersionRequest(argv: readonly string[]): boolean {
  return argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V' || argv[0] === '-v');
}
