// The command line: parse argv, call one command, map errors to exit codes. Nothing else lives here.
// Heavy modules (mysql2, listr2, jiti) are imported by the commands, so `mmmf --help` stays fast.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT, MmmfError, UnsafeError, exitCodeFor } from '../src/errors.js';

/** mmmf's own version, written in by the bundler (tools/bundle.ts) from package.json: the bin only runs bundled. */
declare const MMMF_VERSION: string;

const EPILOG = `Exit codes: 0 done · 1 failed while executing (the summary says where each host was left) · 2 usage or config error · 3 refused as unsafe, nothing changed · 4 the coordination store (etcd) does not answer, nothing changed.
Docs: README.md`;

function report(err: unknown): number {
  const code = exitCodeFor(err);
  // --json: a machine gets the refusal on stdout too, in the shape every other outcome has.
  if (err instanceof MmmfError && process.argv.includes('--json')) {
    const key = err instanceof UnsafeError ? 'refusals' : 'problems';
    const json = { ok: false, exitCode: code, error: err.message, [key]: err.problems };
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  }
  if (err instanceof MmmfError) {
    process.stderr.write(`mmmf: ${err.message}\n`);
    for (const p of err.problems) process.stderr.write(`  - ${p}\n`);
  } else {
    process.stderr.write(`mmmf: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  return code;
}

/** The main command's options: --failover-to, --switchover-to or --abort, and what modifies them. */
const RUN_OPTIONS = {
  'failover-to': {
    type: 'string',
    describe: "host (from the config) to promote, or 'auto' to choose by the rules (candidates, neverPromote)",
  },
  'switchover-to': {
    type: 'string',
    describe: 'planned switchover: the master is alive and becomes a replica of this host',
  },
  'dry-run': { type: 'boolean', describe: 'print the plan, change nothing' },
  abort: { type: 'boolean', describe: 'undo an unfinished (killed) failover, if it has not promoted anyone yet' },
  positioning: {
    choices: ['gtid', 'file', 'auto'] as const,
    describe: "how replicas are positioned on their new source (overrides the config's positioning)",
  },
  'fence-live-master': {
    type: 'boolean',
    describe:
      'fail over although the old master answers (hung disk, broken storage): it is fenced first. ' +
      'Without it a live master is refused: use --switchover-to for planned changes',
  },
  'if-dead': {
    type: 'boolean',
    describe:
      'for cron and timers: fail over only when every signal agrees the master is dead for deadConfirmSeconds ' +
      '(mmmf, its replicas, its host over SSH); a live master exits 0 with "nothing to do", disagreement exits 3',
  },
  'lift-delay': {
    type: 'boolean',
    describe: "apply delayed replicas' relay logs now (their MASTER_DELAY lifted) so what only they received is kept",
  },
  force: {
    type: 'boolean',
    describe: 'fail over even if the last failover was less than antiFlapMinutes ago (safety checks still apply)',
  },
  resume: {
    type: 'boolean',
    describe:
      'finish an unfinished run even when its journal is older than journalMaxAgeMinutes (look at mmmf status first)',
  },
  salvage: {
    type: 'boolean',
    describe:
      "apply what only a dead master's binlog holds, read over SSH (on when SSH is configured for it); " +
      '--no-salvage: not in this run',
  },
} as const;

interface RunArgs {
  cfg?: string | undefined;
  json?: boolean | undefined;
  debug?: boolean | undefined;
  failoverTo?: string | undefined;
  switchoverTo?: string | undefined;
  dryRun?: boolean | undefined;
  abort?: boolean | undefined;
  positioning?: 'gtid' | 'file' | 'auto' | undefined;
  fenceLiveMaster?: boolean | undefined;
  ifDead?: boolean | undefined;
  liftDelay?: boolean | undefined;
  force?: boolean | undefined;
  resume?: boolean | undefined;
  salvage?: boolean | undefined;
}

/** --abort, --switchover-to or --failover-to: one command each, imported only when it runs. */
async function runMain(a: RunArgs): Promise<number> {
  const common = { dryRun: !!a.dryRun, json: !!a.json, debug: !!a.debug };
  const positioning = a.positioning ? { positioning: a.positioning } : {};
  if (a.abort && a.cfg) return (await import('../src/commands/abort.js')).abortCommand({ cfg: a.cfg, ...common });
  const { failoverCommand } = await import('../src/commands/failover.js');
  if (a.switchoverTo && a.cfg) {
    const resume = { resume: !!a.resume };
    return failoverCommand({
      cfg: a.cfg,
      target: a.switchoverTo,
      switchover: true,
      ...positioning,
      ...common,
      ...resume,
    });
  }
  if (!a.failoverTo || !a.cfg) {
    process.stderr.write('mmmf: nothing to do: pass --cfg FILE --failover-to NAME, or a command (see mmmf --help)\n');
    return EXIT.usage;
  }
  return failoverCommand({
    cfg: a.cfg,
    target: a.failoverTo,
    ...positioning,
    ...common,
    force: !!a.force,
    liftDelay: !!a.liftDelay,
    fenceLiveMaster: !!a.fenceLiveMaster,
    ifDead: !!a.ifDead,
    resume: !!a.resume,
    noSalvage: a.salvage === false,
  });
}

async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const run = async (fn: () => Promise<number>) => {
    try {
      code = await fn();
    } catch (err) {
      code = report(err);
    }
  };
  const parser = yargs(argv)
    .scriptName('mmmf')
    // English whatever the locale, like every message of mmmf's own (yargs' translations are not bundled).
    .locale('en')
    .usage(
      [
        '$0 --cfg FILE --failover-to NAME|auto [--dry-run] [--json] [--force] [--if-dead | --fence-live-master]',
        '     [--lift-delay] [--positioning gtid|file|auto] [--no-salvage]',
        '$0 --cfg FILE --switchover-to NAME [--dry-run] [--json] [--positioning gtid|file|auto]',
        '$0 --cfg FILE --abort [--dry-run] [--json]',
        '$0 status --cfg FILE [--json]',
        '$0 check --cfg FILE [--failover-to NAME] [--json | --nagios]',
        '$0 rejoin NAME --cfg FILE [--dry-run] [--json]',
        '$0 roles --cfg FILE [--dry-run] [--json]',
        '$0 offline|online NAME --cfg FILE [--dry-run] [--json]',
        '$0 completion',
      ].join('\n'),
    )
    .option('cfg', { type: 'string', describe: 'topology config (mmmf.config.ts, .js, .mjs or .json)', global: true })
    .option('json', { type: 'boolean', describe: 'machine-readable output', global: true })
    .option('debug', {
      type: 'boolean',
      describe: 'stream every statement sent and every answer to stderr (secrets redacted)',
      global: true,
    })
    .command(
      'status',
      'show every host: role, source, threads, positions, lag, read_only, errors (changes nothing)',
      (y) => y.demandOption('cfg'),
      async (a) =>
        run(async () => (await import('../src/commands/status.js')).statusCommand({ cfg: a.cfg, json: !!a.json })),
    )
    .command(
      'check',
      'preflight: would a failover to each candidate work right now? exit 0 yes, 3 no (changes nothing)',
      (y) =>
        y
          .demandOption('cfg')
          .option('failover-to', { type: 'string', describe: 'check only this candidate' })
          .option('nagios', {
            type: 'boolean',
            describe: 'one status line for monitoring; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN',
          })
          .conflicts('nagios', 'json'),
      async (a) =>
        run(async () =>
          (await import('../src/commands/check.js')).checkCommand({
            cfg: a.cfg,
            json: !!a.json,
            nagios: !!a.nagios,
            ...(a.failoverTo ? { target: a.failoverTo } : {}),
          }),
        ),
    )
    .command(
      'rejoin <name>',
      'bring a former master back as a read-only replica of the master (in a pair: the passive again), only if it holds nothing the master lacks',
      (y) =>
        y
          .demandOption('cfg')
          .positional('name', { type: 'string', describe: 'the former master (a host in the config)' })
          .option('dry-run', { type: 'boolean', describe: 'print the plan, change nothing' }),
      async (a) =>
        run(async () =>
          (await import('../src/commands/rejoin.js')).rejoinCommand({
            cfg: a.cfg,
            name: String(a.name),
            dryRun: !!a.dryRun,
            json: !!a.json,
            debug: !!a.debug,
          }),
        ),
    )
    .command(
      'roles',
      'place the reader VIPs: each on one replica that replicates without error and lags little, spread evenly',
      (y) => y.demandOption('cfg').option('dry-run', { type: 'boolean', describe: 'print the moves, change nothing' }),
      async (a) =>
        run(async () =>
          (await import('../src/commands/roles.js')).rolesCommand({
            cfg: a.cfg,
            dryRun: !!a.dryRun,
            json: !!a.json,
            debug: !!a.debug,
          }),
        ),
    )
    .command(
      ['offline <name>', 'online <name>'],
      'offline: keep a replica out of reader roles (its reader VIPs move away) until online lets it back in',
      (y) =>
        y
          .demandOption('cfg')
          .positional('name', { type: 'string', describe: 'a host in the config' })
          .option('dry-run', { type: 'boolean', describe: 'print the moves, record and change nothing' }),
      async (a) =>
        run(async () =>
          (await import('../src/commands/roles.js')).rolesCommand({
            cfg: a.cfg,
            change: { kind: a._[0] === 'online' ? 'online' : 'offline', name: String(a.name) },
            dryRun: !!a.dryRun,
            json: !!a.json,
            debug: !!a.debug,
          }),
        ),
    )
    .command(
      '$0',
      'fail the cluster over to a new master',
      (y) =>
        y
          .options(RUN_OPTIONS)
          .conflicts('failover-to', 'switchover-to')
          .conflicts('if-dead', ['switchover-to', 'fence-live-master', 'abort'])
          .example('$0 --cfg mmmf.config.ts --failover-to test2 --dry-run', 'show what a failover to test2 would do')
          .example('$0 --cfg mmmf.config.ts --failover-to test2', 'do it')
          .example(
            '$0 --cfg mmmf.config.ts --failover-to auto --if-dead --json',
            'from cron: only if the master is dead',
          ),
      async (a) => run(() => runMain(a)),
    )
    .epilog(EPILOG)
    .strict()
    .completion('completion', 'print a bash/zsh completion script (mmmf completion >> ~/.bashrc)')
    .help()
    // mmmf's own version, not that of whatever package.json is nearest the working directory.
    .version(MMMF_VERSION)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`mmmf: ${msg}\nRun mmmf --help for usage.\n`);
      process.exit(EXIT.usage);
    });
  await parser.parseAsync();
  return code;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = report(err);
  },
);
