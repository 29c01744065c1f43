import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import type { createJiti } from 'jiti';
import { PRIVATE_FILE, trustedDir } from '../state/state-files.js';

/** Bumped whenever what a cached file holds, or how it is run, changes: older entries are then never read. */
const FORMAT = 'mmmf-compiled-config-1';

/**
 * Names a compiled config can only reach through the loader it was compiled for: what the config imports at run
 * time (jiti turns imports into jitiImport calls), require, and its own location. Compiled code that names none
 * of them is the config alone and runs anywhere; the check is by name, so a string that happens to hold one of
 * these words only costs the fast path.
 */
const NEEDS_LOADER = /\b(jitiImport|jitiESMResolve|require|module|__filename|__dirname|eval)\b/;

export interface TypeScriptLoad {
  /** The private folder compiled configs are kept in, or undefined for none (a folder that is not private). */
  cacheDir: string | undefined;
  /** jiti, imported only when a config has to be compiled or cannot run without it. */
  loadJiti?: () => Promise<{ createJiti: typeof createJiti }>;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The default export of a TypeScript config. Compiling one (jiti, with Babel) costs far more than the rest of
 * mmmf's start-up, and cron runs `mmmf check` every minute: the compiled config is kept in mmmf's private state
 * folder, keyed by the file's path and content, and a run whose config is unchanged runs it from there without
 * loading jiti. A config that imports other files at run time is loaded by jiti every time (jiti's own cache,
 * in the same private folder, still saves it the compiling). Both caches hold code mmmf (usually root) runs:
 * never jiti's default folder under the shared temp folder, where another local user could create it first;
 * no cache at all when the state folder is not private.
 */
export async function importTypeScript(path: string, opts: TypeScriptLoad): Promise<unknown> {
  const source = readFileSync(path, 'utf8');
  const dir = opts.cacheDir && trustedDir(opts.cacheDir) ? opts.cacheDir : undefined;
  const key = `${sha256(path).slice(0, 16)}-${sha256(`${FORMAT}\0${path}\0${source}`).slice(0, 32)}`;
  const file = dir && join(dir, `${key}.cjs`);
  if (file && existsSync(file)) return runCompiled(readFileSync(file, 'utf8'), path);
  const { createJiti } = await (opts.loadJiti ?? (() => import('jiti')))();
  // Resolved from mmmf's own folder, as an installed package: a config may import from 'mmmf' wherever it lives.
  const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: dir ?? false, interopDefault: true });
  const code = jiti.transform({ source, filename: path, ts: true, async: true, babel: { comments: false } });
  // A config that does not compile comes back as code exporting __JITI_ERROR__: jiti.import reports it.
  if (NEEDS_LOADER.test(code) || code.includes('__JITI_ERROR__')) return jiti.import(path, { default: true });
  if (dir && file) keep(dir, key, code);
  return runCompiled(code, path);
}

/** Runs compiled config code as jiti would (an async CommonJS-style body), with only `exports` to reach. */
async function runCompiled(code: string, path: string): Promise<unknown> {
  const body = runInThisContext(`(async function (exports) { ${code}\n})`, { filename: path }) as (
    exports: Record<string, unknown>,
  ) => Promise<void>;
  const exports: Record<string, unknown> = {};
  await body.call(undefined, exports);
  return exports.default ?? exports;
}

/** Writes the entry whole (renamed into place: a run starting meanwhile never reads half of it), drops older ones. */
function keep(dir: string, key: string, code: string): void {
  const file = join(dir, `${key}.cjs`);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, code, { mode: PRIVATE_FILE });
    renameSync(tmp, file);
    const config = key.slice(0, key.indexOf('-') + 1);
    for (const f of readdirSync(dir)) {
      if (f.startsWith(config) && f !== `${key}.cjs`) rmSync(join(dir, f), { force: true });
    }
  } catch {
    // A cache that cannot be written only costs the next run the compiling.
    rmSync(tmp, { force: true });
  }
}
