import { posix } from 'node:path';
import type { ServerFiles } from '../../domain/server-state.js';

// Where a dead master's binlog index is, in the order issue 21 gives: `hosts.NAME.binlogDir` (MHA's
// master_binlog_dir), else what the server said when mmmf last saw it alive (@@log_bin_index), else its
// configuration read over SSH (my_print_defaults: datadir, log-bin). The index is then followed; file names are
// never made up by arithmetic.

/**
 * The index file known before anything is asked over SSH: the remembered @@log_bin_index (or basename +
 * '.index'), moved into `binlogDir` when one is configured. Undefined when only the host can say.
 * Example: `knownIndex({ remembered: { datadir: '/d/', logBinIndex: '/d/mysql-bin.index' } })` → '/d/mysql-bin.index'
 */
export function knownIndex(o: { binlogDir?: string; remembered?: ServerFiles }): string | undefined {
  const r = o.remembered;
  const index = r?.logBinIndex ?? (r?.logBinBasename ? `${r.logBinBasename}.index` : undefined);
  if (!index) return undefined;
  return o.binlogDir ? posix.join(o.binlogDir, posix.basename(index)) : index;
}

/**
 * Asks a host where its server keeps its binlogs: the server options its configuration files give (datadir,
 * log-bin, log-bin-index: `my_print_defaults`, shipped with every server package), then every `*.index` file in
 * `dir` (binlogDir), else in that datadir. Prints `datadir D`, `option NAME VALUE` and `index F` lines.
 * Example: `findIndexArgv('/var/log/mysql')`.
 */
export function findIndexArgv(dir: string | undefined): string[] {
  return ['sh', '-c', FIND_SCRIPT, 'mmmf-binlog-index', dir ?? ''];
}

const FIND_SCRIPT = [
  'cfg=$(my_print_defaults mysqld server mariadb mariadbd 2>/dev/null)',
  'data=$(printf "%s\\n" "$cfg" | sed -n "s/^--datadir=//p" | tail -n 1)',
  'data=${data:-/var/lib/mysql}',
  'echo "datadir $data"',
  'printf "%s\\n" "$cfg" | sed -n "s/^--\\(log[-_]bin[-_]index\\|log[-_]bin\\)=\\(.*\\)$/option \\1 \\2/p"',
  'dir=${1:-$data}',
  'for f in "$dir"/*.index; do [ -f "$f" ] && echo "index $f"; done',
  'exit 0',
].join('\n');

/** What findIndexArgv's output says: the index to read (and the datadir), or why none can be chosen. */
export type FoundIndex = { index: string; datadir: string } | { refusal: string };

/**
 * Chooses the binlog index from findIndexArgv's output: the configured log-bin-index, else the configured
 * log-bin's name + '.index', else the only index file in the folder that is not a relay log's. In `binlogDir`
 * when one is configured.
 */
export function pickIndex(out: string, binlogDir: string | undefined): FoundIndex {
  const lines = out.split('\n').map((l) => l.trim());
  const datadir = lines.find((l) => l.startsWith('datadir '))?.slice(8) ?? '/var/lib/mysql';
  const option = (re: RegExp) =>
    lines
      .filter((l) => re.test(l))
      .map((l) => l.replace(re, ''))
      .pop();
  const indexOpt = option(/^option log[-_]bin[-_]index /);
  const logBin = option(/^option log[-_]bin /);
  const inDir = (name: string) =>
    binlogDir ? posix.join(binlogDir, posix.basename(name)) : posix.isAbsolute(name) ? name : posix.join(datadir, name);
  if (indexOpt) return { index: inDir(indexOpt), datadir };
  if (logBin) return { index: inDir(`${logBin.replace(/\.index$/, '')}.index`), datadir };
  const candidates = lines
    .filter((l) => l.startsWith('index '))
    .map((l) => l.slice(6))
    .filter((f) => !/relay/i.test(posix.basename(f)));
  const where = binlogDir ?? datadir;
  if (candidates.length === 1) return { index: candidates[0]!, datadir };
  if (candidates.length === 0) return { refusal: `no binlog index file (*.index) in ${where}` };
  return {
    refusal: `several binlog index files in ${where} (${candidates.join(', ')}): cannot tell which is the server's`,
  };
}
