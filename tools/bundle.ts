// `npm run build`, after tsc: the CLI as it ships, in dist/bin/ (what package.json "bin" names and `npm pack`
// ships). tsc cannot bundle, and loading tsc's output and node_modules file by file (mysql2 alone is ~100
// CommonJS files) was most of a run's start-up.
//   - cli.cjs: bin/cli.ts and everything it uses, one CommonJS file. What a command does not use (the MySQL
//     driver for --help, listr2 without a terminal) is in the file but never compiled or run.
//   - mmmf.js: the entry point, which runs cli.cjs with a V8 code cache (src/startup/code-cache.ts).
// One CommonJS file rather than ES module chunks: Node 20 can cache compiled code only for a script it is given
// (vm.Script), not for ES modules.
import { build, type Metafile, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../harness/paths.js';

const ROOT = repoRoot();
const OUT = join(ROOT, 'dist/bin');
const CLI = 'cli.cjs';

interface PackageJson {
  name: string;
  version: string;
  license?: string;
  dependencies?: Record<string, string>;
}
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

/**
 * What stays outside the bundle, loaded from node_modules at run time: every package in "dependencies" (so
 * "dependencies" lists exactly what an installed mmmf needs) and etcd3 whether listed or not (it parses its
 * protobuf files at import and must only load when a config asks for etcd). jiti must stay outside: it loads
 * its Babel build from files next to its own.
 */
function externals(pkg: PackageJson): string[] {
  return [...new Set([...Object.keys(pkg.dependencies ?? {}), 'etcd3'])];
}

/** Inside the bundle, src/startup/import-file.ts is bundled-import-file.ts: the entry point's import(). */
const importFileFromEntry: Plugin = {
  name: 'import-file-from-entry',
  setup(b) {
    b.onResolve({ filter: /\/startup\/import-file\.js$/ }, () => ({
      path: join(ROOT, 'src/startup/bundled-import-file.ts'),
    }));
  },
};

async function bundleCli(pkg: PackageJson): Promise<Metafile> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['bin/cli.ts'],
    outfile: join(OUT, CLI),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20.19',
    external: externals(pkg),
    // A code-cached script cannot import(): every import() becomes a require() of what is bundled (run when
    // first imported, as before) or of an external package (jiti and etcd3 have CommonJS entries).
    supported: { 'dynamic-import': false },
    plugins: [importFileFromEntry],
    // yargs, cliui, wrap-ansi and listr2 measure text with string-width, whose import and first calls cost more
    // than the rest of `mmmf --help`; src/output/text-width.ts gives the same widths without that cost.
    alias: { 'string-width': './src/output/text-width.ts' },
    // import.meta.url: the bundle's own URL, handed in by the entry point (a CommonJS file has no import.meta).
    define: { MMMF_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__mmmfUrl' },
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}

async function bundleEntry(cliHash: string): Promise<void> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['bin/mmmf.ts'],
    outfile: join(OUT, 'mmmf.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    define: { MMMF_CLI: JSON.stringify({ file: CLI, hash: cliHash }) },
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  });
}

/** The license text a package ships (LICENSE, License.md, LICENCE, ...), if any. */
function licenseText(dir: string): string | undefined {
  const file = readdirSync(dir).find((f) => /^licen[cs]e(\.(md|txt))?$/i.test(f));
  return file ? readFileSync(join(dir, file), 'utf8').trim() : undefined;
}

/** The bundle carries other packages' code, so it carries their copyright notices too. */
function writeThirdPartyNotices(meta: Metafile): void {
  const dirs = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m?.[1]) dirs.add(m[1]);
  }
  const notices = [...dirs].sort().map((dir) => {
    const p = readJson(join(ROOT, dir, 'package.json'));
    const text = licenseText(join(ROOT, dir)) ?? `(no license file; package.json says ${p.license ?? 'nothing'})`;
    return `${p.name} ${p.version} (${p.license ?? 'unknown'})\n\n${text}\n`;
  });
  const head = 'mmmf bundles the following packages into dist/bin/cli.cjs. Their licenses:\n\n';
  writeFileSync(join(OUT, 'THIRD-PARTY-NOTICES.txt'), head + notices.join(`\n${'-'.repeat(78)}\n\n`));
}

const pkg = readJson(join(ROOT, 'package.json'));
rmSync(OUT, { recursive: true, force: true });
const meta = await bundleCli(pkg);
// Keys the code caches: a cache made for another build of cli.cjs is never used.
const hash = createHash('sha256')
  .update(readFileSync(join(OUT, CLI)))
  .digest('hex')
  .slice(0, 16);
await bundleEntry(hash);
writeThirdPartyNotices(meta);
