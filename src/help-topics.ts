// The long-form documentation, one page per topic in src/help-topics/<name>.md (src/ ships with
// the package). `gemwh help <topic>` prints a page; `gemwh --help` lists them beside the commands.
// Names never equal a command's, so `gemwh help <word>` is never ambiguous (test/docs.test.ts).
// This module is data plus one URL: cli.ts imports it before deciding anything, so it stays cheap.

export const HELP_TOPICS: ReadonlyArray<{ readonly name: string; readonly summary: string }> = [
  { name: 'listening', summary: 'gemwh listen: what it verifies, answers and prints' },
  { name: 'journal', summary: 'the listen journal: durability, rotation, resume, locks' },
  { name: 'forwarding', summary: 'forwarding deliveries to your app: routes, retries, re-signing' },
  { name: 'tunnels', summary: 'real Gemini deliveries on a laptop: --public-url and --tunnel' },
  { name: 'team-relay', summary: 'a team relay: one public URL, every developer\'s listen --relay' },
  { name: 'live-view', summary: 'the listen terminal UI and its keys' },
  { name: 'replaying', summary: 'replay fixture, replay delivery, replay jwks' },
  { name: 'history', summary: 'gemwh deliveries: the journal as a history' },
  { name: 'verification', summary: 'gemwh verify, every verification reason, gemwh events' },
  { name: 'emulation', summary: 'the emulator, its deliveries, jobs and fidelity table' },
  { name: 'checking-receivers', summary: 'gemwh conformance: its cases, output and CI use' },
  { name: 'library', summary: 'in your app: the gemwh/verify library' },
  { name: 'webhooks', summary: 'managing webhooks, the API key, secrets, retries, API errors' },
  { name: 'shell-completion', summary: 'installing completion for bash, zsh, fish, PowerShell' },
  { name: 'configuration', summary: 'gemwh.json, the user config file, .env, and gemwh config show' },
  { name: 'environment', summary: 'environment variables gemwh reads' },
  { name: 'commands', summary: 'every command and flag (generated from the commands)' },
];

export function isHelpTopic(word: string): boolean {
  return HELP_TOPICS.some((topic) => topic.name === word);
}

export function helpTopicUrl(name: string): URL {
  return new URL(`../src/help-topics/${name}.md`, import.meta.url);
}

/** The "Help topics:" block of `gemwh --help`. */
export function helpTopicsText(): string {
  const width = Math.max(...HELP_TOPICS.map((topic) => topic.name.length));
  return `\nHelp topics (gemwh help <topic>):\n${HELP_TOPICS.map((topic) => `  ${topic.name.padEnd(width)}  ${topic.summary}\n`).join('')}`;
}
