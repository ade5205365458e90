import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { HELP_TOPICS, helpTopicUrl } from '../src/help-topics.js';
import { buildProgram } from '../src/program.js';
import { preRenderedHelp } from '../src/help-page.js';
import { ExitCode } from '../src/errors.js';
import { makeTestDeps, runGemwh } from './helpers/deps.js';

// The README stays short and points at `gemwh help <topic>`; these tests keep the README, the
// topics and the commander tree from drifting apart. UPDATE_HELP=1 rewrites the generated parts
// (the command reference topic, the README's topic list).

const README_URL = new URL('../README.md', import.meta.url);
const REPO = new URL('../', import.meta.url);
const update = process.env.UPDATE_HELP === '1';
// Flags of other programs that the topics quote when explaining them (cloudflared, ngrok, fish).
const OTHER_TOOLS_FLAGS = ['--no-autoupdate', '--url', '--log', '--log-format', '--config'];

function walk(command: Command, path: string[] = []): Array<{ path: string[]; command: Command }> {
  return [{ path, command }, ...command.commands.filter((sub) => sub.name() !== 'help').flatMap((sub) => walk(sub, [...path, sub.name()]))];
}

let commands: Array<{ path: string[]; command: Command }>;
let globalFlags: Set<string>;

beforeAll(async () => {
  const t = makeTestDeps();
  try {
    const program = await buildProgram(t.deps);
    commands = walk(program);
    globalFlags = new Set(program.options.flatMap((option) => [option.long, option.short].filter((flag): flag is string => !!flag)));
  } finally {
    t.cleanup();
  }
});

function readme(): string {
  return readFileSync(README_URL, 'utf8');
}

/** The README's "Help topics" list, rendered from HELP_TOPICS. */
function renderTopicList(): string {
  return HELP_TOPICS.map((topic) => `- \`gemwh help ${topic.name}\`: ${topic.summary}`).join('\n');
}

/** `gemwh help commands`: every command's --help, in tree order, rendered by commander. */
async function renderCommandReference(): Promise<string> {
  const sections: string[] = ['# Command reference', '', 'Generated from the commands themselves (`gemwh <command> --help` prints the same).', ''];
  for (const { path } of commands) {
    const result = await runGemwh([...path, '--help']);
    sections.push(`## ${['gemwh', ...path].join(' ')}`, '', '```', result.stdout.trimEnd(), '```', '');
  }
  return sections.join('\n');
}

describe('docs', () => {
  it('every topic has a page, every page a topic, and no topic is named like a command', () => {
    const folder = fileURLToPath(new URL('.', helpTopicUrl('x')));
    const pages = readdirSync(folder).filter((name) => name.endsWith('.md')).map((name) => name.slice(0, -3)).sort();
    expect(pages).toEqual(HELP_TOPICS.map((topic) => topic.name).sort());
    const commandNames = new Set(commands.map(({ path }) => path[0]));
    expect(HELP_TOPICS.filter((topic) => commandNames.has(topic.name))).toEqual([]);
  });

  it('src/help-topics/commands.md is the commands\' --help, generated (UPDATE_HELP=1 rewrites it)', async () => {
    const file = helpTopicUrl('commands');
    const wanted = await renderCommandReference();
    if (update) writeFileSync(file, wanted);
    expect(existsSync(file) ? readFileSync(file, 'utf8') : '', 'stale: npm run build, then UPDATE_HELP=1 npx vitest run --config test/vitest.config.ts test/docs.test.ts').toBe(wanted);
  });

  it('the README lists every help topic (UPDATE_HELP=1 rewrites the list) and names no topic that does not exist', () => {
    let text = readme();
    const marked = /(<!-- help-topics:start -->\n)[\s\S]*?(<!-- help-topics:end -->)/;
    if (update) {
      text = text.replace(marked, (_all, start: string, end: string) => `${start}${renderTopicList()}\n${end}`);
      writeFileSync(README_URL, text);
    }
    expect(/<!-- help-topics:start -->\n([\s\S]*?)\n<!-- help-topics:end -->/.exec(text)?.[1]).toBe(renderTopicList());
    const named = [...text.matchAll(/gemwh help ([a-z][a-z-]*)/g)].map((match) => match[1]!);
    const known = new Set([...HELP_TOPICS.map((topic) => topic.name), ...commands.map(({ path }) => path[0])]);
    expect(named.filter((name) => !known.has(name))).toEqual([]);
  });

  it('every relative link of the README and of src/README.md, test/README.md points at a file of the repository', () => {
    const broken: string[] = [];
    for (const doc of ['README.md', 'src/README.md', 'test/README.md']) {
      const base = new URL(doc, REPO);
      for (const [, target] of readFileSync(base, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue;
        const file = new URL(target!.split('#')[0]!, base);
        if (!existsSync(file)) broken.push(`${doc}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the README\'s command table names every command and subcommand, and only those', () => {
    const table = /## Commands\n([\s\S]*?)\n## /.exec(readme())?.[1] ?? '';
    const rows = table.split('\n').filter((line) => line.startsWith('| `gemwh'));
    const named = new Set(rows.flatMap((row) => [...row.matchAll(/`gemwh ([a-z][a-z -]*?)`/g)].map((match) => match[1]!)));
    const existing = new Set(commands.slice(1).map(({ path }) => path.join(' ')));
    expect([...existing].filter((name) => !named.has(name)), 'commands missing from the README table').toEqual([]);
    expect([...named].filter((name) => !existing.has(name)), 'README table rows that are no command').toEqual([]);
    // The first column is the top-level commands, each once.
    const first = rows.map((row) => /^\| `gemwh ([a-z-]+)`/.exec(row)?.[1]);
    expect(first.sort()).toEqual(commands.filter(({ path }) => path.length === 1).map(({ path }) => path[0]).sort());
  });

  it('every --flag a help topic or the README mentions exists on some command or is a global option', () => {
    const flags = new Set(globalFlags);
    for (const { command } of commands) {
      for (const option of command.options) {
        if (option.long) flags.add(option.long);
        // `--no-journal` also documents `--journal`, and the reverse.
        if (option.long?.startsWith('--no-')) flags.add(`--${option.long.slice(5)}`);
      }
    }
    for (const always of ['--help', '--version', ...OTHER_TOOLS_FLAGS]) flags.add(always);
    const unknown: string[] = [];
    const docs = [...HELP_TOPICS.map((topic) => [`${topic.name}.md`, readFileSync(helpTopicUrl(topic.name), 'utf8')] as const), ['README.md', readme()] as const];
    for (const [name, text] of docs) {
      // Inside code blocks, only gemwh's own command lines: other tools' flags (curl, npm, ngrok) are not ours.
      const prose = text.replace(/```[\s\S]*?```/g, (block) => block.split('\n').filter((line) => /\bgemwh\b/.test(line)).join('\n'));
      for (const [flag] of prose.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) {
        if (!flags.has(flag)) unknown.push(`${name}: ${flag}`);
      }
    }
    expect([...new Set(unknown)]).toEqual([]);
  });

  it('`gemwh help <topic>` prints the page, pre-rendered or not; an unknown word is a usage error with a suggestion', async () => {
    const page = readFileSync(helpTopicUrl('journal'), 'utf8');
    expect(preRenderedHelp(['help', 'journal'], {})).toBe(page);
    const result = await runGemwh(['help', 'journal']);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toBe(page);
    const typo = await runGemwh(['help', 'jurnal']);
    expect(typo.code).toBe(ExitCode.USAGE);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain('did you mean "journal"');
    const root = await runGemwh(['--help']);
    for (const topic of HELP_TOPICS) expect(root.stdout).toMatch(new RegExp(`^  ${topic.name}\\b`, 'm'));
  });
});
