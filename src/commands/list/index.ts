import { Command } from 'commander';
import type { Deps } from '../../deps.js';
import { parsePageSize } from '../../flags/values.js';

export default function listCommand(deps: Deps): Command {
  return new Command('list')
    .summary('list webhooks, with their secrets and whether gemwh holds them')
    .description(
      'List the webhooks of the project: id, name, state, events, uri, signing secrets (masked, with expiry) and ' +
        'whether gemwh holds the secret locally. A table on a terminal, TSV when piped, JSON with --json. ' +
        'Without --all one page is shown, with a note on stderr when there are more.',
    )
    .option('--all', 'follow next_page_token and list every webhook')
    .option('--page-size <n>', 'webhooks per page (1-1000; the API default is at most 50)')
    .option('--json', 'print {"webhooks": [...], "next_page_token"?} as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh list\n  $ gemwh list --all --json | jq -r \'.webhooks[].id\'\n  $ gemwh list --page-size 10 | cut -f1,5\n')
    .action(async (opts: { all?: boolean; pageSize?: string; json?: boolean }, command: Command) => {
      const [{ runList }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runList(
        { all: opts.all === true, pageSize: opts.pageSize === undefined ? undefined : parsePageSize(opts.pageSize), json: opts.json === true },
        contextOf(deps, command),
      );
    });
}
