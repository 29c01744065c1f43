import { shellQuote } from '../../process/shell-quote.js';

// The commands that read a dead master's binlogs over SSH with the tools every Linux host has (no agent on
// database hosts). Each is an argv: values travel as positional arguments of a fixed script, so no file name is
// ever interpreted by a shell; `remoteCommandLine` is how ssh receives it (and how a plan shows it).

function checkInteger(name: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${n}`);
  return String(n);
}

/** Prints the binlog index (one file per line). Example: `readIndexArgv('/var/lib/mysql/mysql-bin.index')`. */
export function readIndexArgv(indexPath: string): string[] {
  return ['cat', '--', indexPath];
}

/** Prints a file's size in bytes (GNU and BusyBox stat). Example: `fileSizeArgv('/var/lib/mysql/mysql-bin.000012')`. */
export function fileSizeArgv(path: string): string[] {
  return ['stat', '-L', '-c', '%s', '--', path];
}

/**
 * Writes `length` bytes of a file from byte `offset` (0-based) to stdout; fewer when the file ends first. tail
 * seeks on a regular file, so the bytes before `offset` are not read.
 * Example: `readRangeArgv('/var/lib/mysql/mysql-bin.000012', 4711, 4194304)`.
 */
export function readRangeArgv(path: string, offset: number, length: number): string[] {
  const from = checkInteger('offset', offset);
  const count = checkInteger('length', length);
  return [
    'sh',
    '-c',
    'tail -c +"$1" -- "$3" | head -c "$2"',
    'mmmf-binlog-read',
    String(Number(from) + 1),
    count,
    path,
  ];
}

/**
 * Proves that no MySQL/MariaDB server runs for a datadir and port, and that none is about to: prints `none` and
 * exits 0 only when
 * - no mysqld/mariadbd process (zombies aside) has that datadir as its working directory (the server chdirs
 *   there; one whose working directory cannot be read counts as running, as does any when no datadir is given),
 * - no mysqld_safe/mariadbd-safe supervisor runs (it restarts a killed server),
 * - nothing listens on the port,
 * - no mysql/mariadb systemd unit is activating or waiting to restart (Restart=on-abnormal, RestartSec=5s).
 * Otherwise it prints one line per piece of evidence and exits 1; exit 2 when the host's /proc hides other
 * users' processes (hidepid), so nothing can be proved. Example: `noServerCheckArgv({ port: 3306, datadir: '/var/lib/mysql' })`.
 */
export function noServerCheckArgv(o: { port: number; datadir?: string }): string[] {
  return ['sh', '-c', NO_SERVER_SCRIPT, 'mmmf-no-server', checkInteger('port', o.port), o.datadir ?? ''];
}

const NO_SERVER_SCRIPT = [
  '[ -r /proc/1/comm ] || { echo "cannot see other processes in /proc"; exit 2; }',
  'want=; [ -z "$2" ] || want=$(cd "$2" 2>/dev/null && pwd -P) || want=${2%/}',
  'found=0',
  'for d in /proc/[0-9]*; do',
  '  { read -r c <"$d/comm"; } 2>/dev/null || continue',
  '  case $c in',
  '    mysqld|mariadbd|mysqld-debug|mariadbd-debug) ;;',
  '    mysqld_safe|mariadbd-safe|mariadb-safe) echo "supervisor pid=${d#/proc/} $c"; found=1; continue ;;',
  '    *) continue ;;',
  '  esac',
  // A zombie (killed, not yet reaped by its parent) holds nothing.
  '  st=$(sed -n "s/^State:[[:space:]]*\\([A-Z]\\).*/\\1/p" "$d/status" 2>/dev/null)',
  '  [ "$st" = Z ] && continue',
  '  w=$(readlink "$d/cwd" 2>/dev/null) || w=',
  // A server exiting this very moment (killed on another datadir) has released its working directory before it is
  // a zombie: looked at again after a pause, it is gone, a zombie, or readable (seen on a host running several).
  '  if [ -z "$w" ] && [ -n "$want" ]; then',
  '    sleep 0.2 2>/dev/null || sleep 1',
  '    st=$(sed -n "s/^State:[[:space:]]*\\([A-Z]\\).*/\\1/p" "$d/status" 2>/dev/null)',
  '    if [ -z "$st" ] || [ "$st" = Z ]; then continue; fi',
  '    w=$(readlink "$d/cwd" 2>/dev/null) || w=',
  '  fi',
  '  if [ -z "$want" ] || [ -z "$w" ] || [ "$w" = "$want" ]; then',
  '    echo "server pid=${d#/proc/} $c cwd=${w:-unreadable}"; found=1',
  '  fi',
  'done',
  'p=$(printf ":%04X" "$1")',
  'if awk -v p="$p" \'$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }\' ' +
    '/proc/net/tcp /proc/net/tcp6 2>/dev/null; then echo "listening port=$1"; found=1; fi',
  'if command -v systemctl >/dev/null 2>&1; then',
  '  u=$(systemctl list-units --all --plain --no-legend "mariadb*" "mysql*" 2>/dev/null |',
  '    awk \'$3 == "activating" || $3 == "reloading" || $4 == "auto-restart" { print "unit " $1 " " $3 "/" $4 }\')',
  '  if [ -n "$u" ]; then echo "$u"; found=1; fi',
  'fi',
  'if [ "$found" = 0 ]; then echo none; fi',
  'exit "$found"',
].join('\n');

/**
 * What the check proved. Example: `{ running: true, evidence: ['server pid=812 mariadbd cwd=/var/lib/mysql'] }`.
 */
export type ServerCheck =
  { running: false } | { running: true; evidence: string[] } | { running: 'unknown'; detail: string };

/** Reads the check's exit code and output (stdout and stderr together). */
export function parseNoServerCheck(code: number | undefined, out: string): ServerCheck {
  const lines = out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (code === 0 && lines.length === 1 && lines[0] === 'none') return { running: false };
  if (code === 1 && lines.length > 0) return { running: true, evidence: lines };
  return { running: 'unknown', detail: lines.join('; ') || `the check exited with ${code ?? 'no code'}` };
}

/**
 * Proves the SSH user may read a server's binlogs: the index and every file it lists. Prints `ok N files` and
 * exits 0, or names the first it cannot read and exits 3.
 * Example: `binlogAccessArgv('/var/lib/mysql/mysql-bin.index')`.
 */
export function binlogAccessArgv(indexPath: string): string[] {
  return ['sh', '-c', ACCESS_SCRIPT, 'mmmf-binlog-access', indexPath];
}

const ACCESS_SCRIPT = [
  '[ -r "$1" ] || { echo "cannot read the binlog index $1"; exit 3; }',
  'd=$(dirname -- "$1"); n=0',
  'while IFS= read -r f || [ -n "$f" ]; do',
  '  [ -n "$f" ] || continue',
  '  case $f in /*) p=$f ;; *) p=$d/${f#./} ;; esac',
  '  [ -r "$p" ] || { echo "cannot read $p"; exit 3; }',
  '  n=$((n + 1))',
  'done <"$1"',
  'echo "ok $n files"',
].join('\n');

/** The command line ssh hands to the remote shell for an argv (and the plan shows). */
export function remoteCommandLine(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}
