import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root, found from this file whether it runs as TypeScript source or compiled under dist/. */
export function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'scripts/sandbox.sh'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the mmmf repository root');
    dir = up;
  }
  return dir;
}

/**
 * The CLI exactly as it ships: the file package.json "bin" names (the bundle `npm run build` writes). Tests,
 * the chaos harness and the bench run this file, so what they prove holds for what `npm pack` ships.
 */
export const SHIPPED_BIN: string = (() => {
  const root = repoRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: { mmmf: string } };
  return join(root, pkg.bin.mmmf);
})();
