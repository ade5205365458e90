import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The layering rules of src/ (src/README.md explains them), written as data and checked against a
// static scan of every import. Each rule is also run against a made-up import that breaks it, so
// a rule that can no longer fail is caught too.

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** One import: `from` and `to` are paths relative to src/ (a package name for packages). */
interface Edge {
  from: string;
  to: string;
  /** `static` loads with the importing module; `dynamic` is `await import()`; `type` is erased at build. */
  kind: 'static' | 'dynamic' | 'type';
}

interface Module {
  path: string;
  edges: Edge[];
  /** Uses the `process` global (not the node:process module, which is an import and checked as one). */
  usesProcess: boolean;
}

const HEAVY_PACKAGES = ['ink', 'react', 'googleapis-common', 'undici', 'jose'];

const packageName = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
const isPackage = (to: string) => !to.endsWith('.ts') && !to.endsWith('.tsx');
const isHeavy = (to: string) => isPackage(to) && HEAVY_PACKAGES.includes(packageName(to));
const under = (folder: string) => (path: string) => path.startsWith(`${folder}/`);

/**
 * The command layout (src/README.md): each command's home is commands/<noun>/, with the light
 * definition in index.ts (a group's subcommands in <verb>.ts) and the code that runs it in run.ts
 * or run-<verb>.ts. The files directly in commands/ are shared by the definitions.
 */
const isRunModule = (path: string) => /^commands\/[^/]+\/run(?:-[\w-]+)?\.ts$/.test(path);
const homeOf = (path: string) => (under('commands')(path) ? /^commands\/([^/]+)\//.exec(path)?.[1] : undefined);
const SHARED_COMMAND_MODULES = ['command-factory.ts', 'context.ts', 'collect.ts', 'journal-options.ts', 'receiver-options.ts', 'secret-options.ts'].map(
  (name) => `commands/${name}`,
);

interface Rule {
  name: string;
  /** The modules the rule speaks about. */
  appliesTo: (path: string) => boolean;
  /** An import the rule forbids from those modules. */
  forbids?: (edge: Edge) => boolean;
  /** Whether using the `process` global is forbidden in those modules. */
  forbidsProcess?: boolean;
  /** A module and an import that break the rule, to prove it can fail. */
  counterexample: { module: Module };
}

const edge = (from: string, to: string, kind: Edge['kind'] = 'static'): Module => ({ path: from, edges: [{ from, to, kind }], usesProcess: false });

const RULES: Rule[] = [
  {
    name: 'core/ is pure: it imports only core/, errors.ts (a leaf), node:crypto, jose and string-width — no node:http, no ink/react',
    appliesTo: under('core'),
    forbids: ({ to }) => (isPackage(to) ? !['node:crypto', 'jose', 'string-width'].includes(packageName(to)) : !under('core')(to) && to !== 'errors.ts'),
    counterexample: { module: edge('core/x.ts', 'node:http') },
  },
  {
    name: 'core/ does not use the process global (time, env and streams are passed in)',
    appliesTo: under('core'),
    forbidsProcess: true,
    counterexample: { module: { path: 'core/x.ts', edges: [], usesProcess: true } },
  },
  {
    name: 'errors.ts (the exit-code table) imports nothing, so every layer may use it',
    appliesTo: (path) => path === 'errors.ts',
    forbids: () => true,
    counterexample: { module: edge('errors.ts', 'core/verdict.ts', 'type') },
  },
  {
    name: 'only ui/ imports ink and react',
    appliesTo: (path) => !under('ui')(path),
    forbids: ({ to }) => isPackage(to) && ['ink', 'react'].includes(packageName(to)),
    counterexample: { module: edge('listen/x.ts', 'ink', 'dynamic') },
  },
  {
    name: 'outside ui/, only a command module imports ui/, and only lazily (await import())',
    appliesTo: (path) => !under('ui')(path),
    forbids: ({ from, to, kind }) => under('ui')(to) && !(under('commands')(from) && kind !== 'static'),
    counterexample: { module: edge('commands/x.ts', 'ui/index.ts') },
  },
  {
    name: 'only http/ imports undici: every delivery goes out through the one sender (http/send.ts)',
    appliesTo: (path) => !under('http')(path),
    forbids: ({ to }) => isPackage(to) && packageName(to) === 'undici',
    counterexample: { module: edge('emulator/x.ts', 'undici', 'type') },
  },
  {
    name: 'only commands/ imports the command context (commands/context.ts); engines take what they need',
    appliesTo: (path) => !under('commands')(path),
    forbids: ({ to }) => to === 'commands/context.ts',
    counterexample: { module: edge('listen/x.ts', 'commands/context.ts', 'type') },
  },
  {
    name: 'nothing below commands/ imports from commands/ (only program.ts lists them)',
    appliesTo: (path) => !under('commands')(path) && path !== 'program.ts',
    forbids: ({ to }) => under('commands')(to),
    counterexample: { module: edge('listen/x.ts', 'commands/listen/run.ts', 'type') },
  },
  {
    name: "program.ts imports only the commands' definitions (commands/<noun>/index.ts) and the factory type, never a run module",
    appliesTo: (path) => path === 'program.ts',
    forbids: ({ to }) => under('commands')(to) && !/^commands\/[^/]+\/index\.ts$/.test(to) && to !== 'commands/command-factory.ts',
    counterexample: { module: edge('program.ts', 'commands/list/run.ts', 'dynamic') },
  },
  {
    name: "a run module is loaded only by await import() (types aside), except by another run module of the same home: --help and --version never load it",
    appliesTo: () => true,
    forbids: ({ from, to, kind }) => isRunModule(to) && kind === 'static' && !(isRunModule(from) && homeOf(from) === homeOf(to)),
    counterexample: { module: edge('commands/list/index.ts', 'commands/list/run.ts') },
  },
  {
    name: "a command's home does not reach into another home: what two commands share is in commands/*.ts or below commands/ (config alone reads other commands' definitions, lazily, for their defaults)",
    appliesTo: under('commands'),
    forbids: ({ from, to, kind }) =>
      homeOf(to) !== undefined && homeOf(from) !== homeOf(to) && !(homeOf(from) === 'config' && to.endsWith('/index.ts') && kind === 'dynamic'),
    counterexample: { module: edge('commands/emulator/run-deliveries.ts', 'commands/trigger/run.ts') },
  },
  {
    name: 'commands open the output object, the secret store and the API client only through the context (commands/context.ts)',
    appliesTo: (path) => under('commands')(path) && path !== 'commands/context.ts',
    forbids: ({ from, to, kind }) =>
      kind !== 'type' &&
      (to === 'output/output.ts' ||
        to === 'secrets/open-store.ts' ||
        // doctor probes the API root with a client of its own: no retries, a 10 s deadline.
        (to === 'api/client.ts' && !(from === 'commands/doctor/run.ts' && kind === 'dynamic'))),
    counterexample: { module: edge('commands/events/run.ts', 'output/output.ts') },
  },
  {
    name: 'flags/ (the flag-value parsers) is pure like core/: it imports only core/ and errors.ts',
    appliesTo: under('flags'),
    forbids: ({ to }) => isPackage(to) || (!under('core')(to) && !under('flags')(to) && to !== 'errors.ts'),
    counterexample: { module: edge('flags/values.ts', 'listen/routing.ts') },
  },
];


/** listen's stages that decide and keep books: pure enough to test without sockets, files or timers. */
const LISTEN_DECIDING = ['decision.ts', 'dedup.ts', 'delivery-cache.ts', 'event-bus.ts', 'forward-signing.ts'].map((name) => `listen/${name}`);
/** listen's modules that open sockets, files or timers. */
const LISTEN_DOING = ['session.ts', 'request-flow.ts', 'session-journal.ts', 'receiver.ts', 'forwarding.ts', 'forward-backlog.ts', 'forwarder.ts', 'journal.ts', 'journal-scan.ts', 'journal-lock.ts', 'journal-check.ts'].map(
  (name) => `listen/${name}`,
);
RULES.push({
  name: "listen's deciding stages (decision, dedup, delivery cache, event bus, forward signing) take only types from the modules that do I/O, and no node: module but node:buffer",
  appliesTo: (path) => LISTEN_DECIDING.includes(path),
  forbids: ({ to, kind }) => (isPackage(to) ? packageName(to).startsWith('node:') && packageName(to) !== 'node:buffer' : kind !== 'type' && LISTEN_DOING.includes(to)),
  counterexample: { module: edge('listen/decision.ts', 'listen/journal.ts') },
});

/**
 * Reading whether stdout/stderr is a terminal, or the colour switches, is the output object's job
 * (output/output.ts): a command that decides by itself ignores FORCE_COLOR or a narrow window.
 * Before a Deps exists (cli.ts, help-page.ts) and commander's help width (program.ts) are outside.
 * stdin.isTTY (may we prompt?) is about input and allowed.
 */
const TERMINAL_PROBE = /\b(?:stdout|stderr|out)\??\.isTTY\b|\benv(?:\.|\[['"])(?:NO_COLOR|FORCE_COLOR)\b/;
const MAY_PROBE_TERMINAL = (path: string) => under('output')(path) || ['deps.ts', 'cli.ts', 'help-page.ts', 'program.ts'].includes(path);

function terminalProbes(files: ReadonlyArray<{ path: string; text: string }>): string[] {
  return files
    .filter(({ path }) => !MAY_PROBE_TERMINAL(path))
    .flatMap(({ path, text }) =>
      text
        .split('\n')
        .map((line, i) => ({ line, i }))
        .filter(({ line }) => !/^\s*(?:\*|\/\/|\/\*)/.test(line) && TERMINAL_PROBE.test(line))
        .map(({ i }) => `${path}:${i + 1}`),
    );
}

function scan(): Map<string, Module> {
  const modules = new Map<string, Module>();
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((name) => /\.tsx?$/.test(name) && !name.endsWith('.d.ts'));
  for (const name of files) {
    const path = name.split('\\').join('/');
    const text = readFileSync(join(SRC, path), 'utf8');
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, path.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
    const module: Module = { path, edges: [], usesProcess: false };
    const add = (specifier: string, kind: Edge['kind']) => module.edges.push({ from: path, to: resolveSpecifier(path, specifier), kind });
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const clause = node.importClause;
        const typeOnly =
          clause !== undefined &&
          (clause.isTypeOnly ||
            (clause.name === undefined &&
              clause.namedBindings !== undefined &&
              ts.isNamedImports(clause.namedBindings) &&
              clause.namedBindings.elements.length > 0 &&
              clause.namedBindings.elements.every((element) => element.isTypeOnly)));
        add(node.moduleSpecifier.text, typeOnly ? 'type' : 'static');
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, node.isTypeOnly ? 'type' : 'static');
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [argument] = node.arguments;
        if (argument && ts.isStringLiteralLike(argument)) add(argument.text, 'dynamic');
        else throw new Error(`${path}: import() of a computed specifier cannot be checked; use a string literal`);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        add(node.argument.literal.text, 'type');
      } else if (ts.isIdentifier(node) && node.text === 'process' && !isPropertyName(node)) {
        module.usesProcess = true;
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    modules.set(path, module);
  }
  return modules;
}

// `x.process` and `{ process: … }` name a property, not the global.
function isPropertyName(node: ts.Identifier): boolean {
  const parent = node.parent;
  return (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node);
}

function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  const target = relative(SRC, resolve(SRC, dirname(from), specifier)).split('\\').join('/');
  // NodeNext specifiers name the built file: ./x.js is src/x.ts or src/x.tsx.
  if (target.endsWith('.js')) {
    const base = target.slice(0, -'.js'.length);
    return modulesOnDisk.has(`${base}.tsx`) ? `${base}.tsx` : `${base}.ts`;
  }
  return target;
}

const modulesOnDisk = new Set(
  (readdirSync(SRC, { recursive: true }) as string[]).filter((name) => /\.tsx?$/.test(name)).map((name) => name.split('\\').join('/')),
);

function ruleViolations(rule: Rule, modules: Iterable<Module>): string[] {
  const found: string[] = [];
  for (const module of modules) {
    if (!rule.appliesTo(module.path)) continue;
    if (rule.forbidsProcess && module.usesProcess) found.push(`${module.path} uses process`);
    for (const e of module.edges) if (rule.forbids?.(e)) found.push(`${e.from} -> ${e.to} (${e.kind})`);
  }
  return found;
}

/** Every cycle through the import graph (all kinds of import), each as `a -> b -> a`. */
function findCycles(modules: Map<string, Module>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (path: string) => {
    state.set(path, 'open');
    stack.push(path);
    for (const { to } of modules.get(path)?.edges ?? []) {
      if (!modules.has(to)) continue;
      if (state.get(to) === 'open') cycles.push([...stack.slice(stack.indexOf(to)), to].join(' -> '));
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(path, 'done');
  };
  for (const path of [...modules.keys()].sort()) if (!state.has(path)) visit(path);
  return cycles;
}

/** Heavy packages a start-up module loads through static imports alone, with the chain that loads them. */
function heavyLoadedEagerly(modules: Map<string, Module>, entry: string, heavy: (to: string) => boolean = isHeavy): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const walk = (path: string, chain: string[]) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const e of modules.get(path)?.edges ?? []) {
      if (e.kind !== 'static') continue;
      if (heavy(e.to)) found.push([...chain, path, e.to].join(' -> '));
      else if (modules.has(e.to)) walk(e.to, [...chain, path]);
    }
  };
  walk(entry, []);
  return found;
}

/** cli.ts, program.ts and every command definition load at start-up, before any action runs (run modules load in the action). */
const isStartUpModule = (path: string) => path === 'cli.ts' || path === 'program.ts' || (under('commands')(path) && !isRunModule(path));


/**
 * The layout as a whole: every command program.ts registers is loaded from its home's index.ts,
 * every folder in commands/ is the home of a registered command, and the only files directly in
 * commands/ are the shared ones. Returns what is out of place.
 */
function layoutProblems(programText: string, entries: ReadonlyArray<{ name: string; isDirectory: boolean }>): string[] {
  const registered = [...programText.matchAll(/^\s+([\w-]+|'[\w-]+'): \(\) => import\('\.\/commands\/([^']+)'\)/gm)].map((m) => ({
    name: m[1]!.replace(/'/g, ''),
    path: m[2]!,
  }));
  const problems: string[] = [];
  if (registered.length === 0) problems.push('program.ts registers no command');
  const folders = new Set(entries.filter((e) => e.isDirectory).map((e) => e.name));
  for (const { name, path } of registered) {
    if (path !== `${name}/index.js`) problems.push(`program.ts loads ${name} from commands/${path}, not commands/${name}/index.js`);
    if (!folders.has(name)) problems.push(`${name} has no home folder commands/${name}/`);
  }
  for (const folder of folders) if (!registered.some((r) => r.name === folder)) problems.push(`commands/${folder}/ is no command program.ts registers`);
  for (const file of entries.filter((e) => !e.isDirectory)) {
    if (!SHARED_COMMAND_MODULES.includes(`commands/${file.name}`)) problems.push(`commands/${file.name} belongs in a command's home (or in SHARED_COMMAND_MODULES, if shared)`);
  }
  return problems;
}

const modules = scan();

describe('architecture of src/', () => {
  it('the scan sees the imports it has to judge', () => {
    const edges = [...modules.values()].flatMap((m) => m.edges);
    expect(modules.size).toBeGreaterThan(100);
    expect(edges.some((e) => e.from === 'cli.ts' && e.to === 'program.ts' && e.kind === 'dynamic')).toBe(true);
    expect(edges.some((e) => e.from === 'commands/listen/index.ts' && e.to === 'ui/index.ts' && e.kind === 'dynamic')).toBe(true);
    expect(edges.some((e) => e.to === 'ink' && e.kind === 'static')).toBe(true);
    expect(edges.some((e) => e.kind === 'type')).toBe(true);
    expect(edges.filter((e) => !isPackage(e.to) && !modules.has(e.to))).toEqual([]);
  });

  for (const rule of RULES) {
    it(rule.name, () => {
      expect(ruleViolations(rule, [rule.counterexample.module]), 'the counterexample must break the rule').not.toEqual([]);
      expect(ruleViolations(rule, modules.values())).toEqual([]);
    });
  }

  it('no module outside output/ reads isTTY of stdout/stderr, NO_COLOR or FORCE_COLOR (the output object decides)', () => {
    expect(terminalProbes([{ path: 'manage/x.ts', text: 'const tty = io.stdout.isTTY === true;' }])).toEqual(['manage/x.ts:1']);
    expect(terminalProbes([{ path: 'commands/x.ts', text: 'color: !deps.env.NO_COLOR,' }])).toEqual(['commands/x.ts:1']);
    expect(terminalProbes([{ path: 'manage/x.ts', text: 'if (!io.stdin.isTTY) prompt();' }])).toEqual([]);
    const files = [...modules.keys()].map((path) => ({ path, text: readFileSync(join(SRC, path), 'utf8') }));
    expect(terminalProbes(files)).toEqual([]);
  });

  it('every command program.ts registers has its home, commands/<noun>/index.ts, and every home is a registered command', () => {
    const made = "  list: () => import('./commands/list.js'),\n  get: () => import('./commands/get/index.js'),\n";
    expect(layoutProblems(made, [{ name: 'get', isDirectory: true }, { name: 'run-list.ts', isDirectory: false }, { name: 'orphan', isDirectory: true }])).toEqual([
      'program.ts loads list from commands/list.js, not commands/list/index.js',
      'list has no home folder commands/list/',
      'commands/orphan/ is no command program.ts registers',
      'commands/run-list.ts belongs in a command\'s home (or in SHARED_COMMAND_MODULES, if shared)',
    ]);
    const entries = readdirSync(join(SRC, 'commands'), { withFileTypes: true }).map((e) => ({ name: e.name, isDirectory: e.isDirectory() }));
    expect(layoutProblems(readFileSync(join(SRC, 'program.ts'), 'utf8'), entries)).toEqual([]);
  });

  it('the command context (built by every command) loads neither a heavy package nor string-width (tables) nor the secret store until asked', () => {
    const costly = (to: string) => isHeavy(to) || to === 'string-width' || to === 'secrets/open-store.ts';
    const made = new Map(modules);
    made.set('commands/context.ts', edge('commands/context.ts', 'core/table.ts'));
    expect(heavyLoadedEagerly(made, 'commands/context.ts', costly)).toEqual(['commands/context.ts -> core/table.ts -> string-width']);
    expect(heavyLoadedEagerly(modules, 'commands/context.ts', costly)).toEqual([]);
  });

  it('no import cycles (type-only and lazy imports count: they tie the modules together all the same)', () => {
    const made = new Map(modules);
    made.set('core/a.ts', edge('core/a.ts', 'core/b.ts', 'type'));
    made.set('core/b.ts', edge('core/b.ts', 'core/a.ts', 'dynamic'));
    expect(findCycles(made)).toContain('core/a.ts -> core/b.ts -> core/a.ts');
    expect(findCycles(modules)).toEqual([]);
  });

  it(`start-up modules (cli.ts, program.ts, the definitions in commands/) load none of ${HEAVY_PACKAGES.join(', ')} without await import()`, () => {
    const made = new Map(modules);
    made.set('commands/x.ts', edge('commands/x.ts', 'core/jwt.ts'));
    expect(heavyLoadedEagerly(made, 'commands/x.ts')).toEqual(['commands/x.ts -> core/jwt.ts -> jose']);
    const found = [...modules.keys()].filter(isStartUpModule).flatMap((path) => heavyLoadedEagerly(modules, path));
    expect(found).toEqual([]);
  });
});
