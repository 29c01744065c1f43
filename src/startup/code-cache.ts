import module, { createRequire } from 'node:module';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { PRIVATE_FILE, trustedDir } from '../state/state-files.js';
import { defaultStateDir } from '../topology/validate-config.js';

const COMMANDS = ['status', 'check', 'rejoin', 'roles', 'offline', 'online', 'completion'];

/**
 * Which code cache a run uses: each command compiles different code (a failover most of mmmf, `--help` yargs
 * alone), and a cache holds what the run that wrote it compiled. Example: `cacheKind(['status', '--cfg', 'x'])`
 * is 'status'; a failover, switchover or --abort is 'run'.
 */
export function cacheKind(argv: string[]): string {
  if (argv.includes('--version')) return 'version';
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  return argv.find((a) => COMMANDS.includes(a)) ?? 'run';
}

/** The private state folder's compile-cache: it holds code mmmf runs, so never a folder another user could write. */
function cacheDir(): string | undefined {
  const dir = join(defaultStateDir(), 'compile-cache');
  return trustedDir(dir) ? dir : undefined;
}

function readCache(file: string | undefined): Buffer | undefined {
  try {
    return file ? readFileSync(file) : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole (renamed into place); caches of other builds of the bundle are dropped. */
function writeCache(dir: string, file: string, hash: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { mode: PRIVATE_FILE });
    renameSync(tmp, file);
    for (const f of readdirSync(dir)) {
      if (f.startsWith('cli-') && f.endsWith('.v8') && !f.startsWith(`cli-${hash}-`)) rmSync(join(dir, f));
    }
  } catch {
    // A cache that cannot be written only costs the next run the compiling.
    rmSync(tmp, { force: true });
  }
}

/**
 * Runs the bundled command line (a CommonJS file) with a V8 code cache: what V8 compiled in an earlier run of
 * the same command, kept in the private state folder, so this run skips parsing and compiling it — most of a
 * status's start-up. Node 20 has no compile cache of its own (`module.enableCompileCache` came with 22.1; where
 * there is one it serves what is loaded outside the bundle: jiti, etcd3). The cache is written when the process
 * exits, with everything compiled by then, once per build of the bundle, command and Node version; V8 rejects a
 * cache made under other flags, and it is then written anew. Code run from a code cache cannot `import()`: the
 * bundle gets `importFile`, the entry point's own.
 */
export function runBundle(url: URL, hash: string, importFile: (url: string) => Promise<unknown>): void {
  const file = fileURLToPath(url);
  const dir = cacheDir();
  const enable = (module as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
  if (dir && typeof enable === 'function') enable(join(dir, 'node'));
  const kind = cacheKind(process.argv.slice(2));
  const cacheFile = dir && join(dir, `cli-${hash}-${kind}-${process.version}-${process.arch}.v8`);
  const cachedData = readCache(cacheFile);
  const source = readFileSync(file, 'utf8');
  const wrapped = `(function (exports, require, module, __filename, __dirname, __mmmfImport, __mmmfUrl) { ${source}\n})`;
  const script = new Script(wrapped, { filename: file, ...(cachedData ? { cachedData } : {}) });
  if (dir && cacheFile && (!cachedData || script.cachedDataRejected)) {
    process.once('exit', () => writeCache(dir, cacheFile, hash, script.createCachedData()));
  }
  const body = script.runInThisContext() as (...args: unknown[]) => void;
  const exports = {};
  body.call(exports, exports, createRequire(file), { exports }, file, dirname(file), importFile, url.href);
}
