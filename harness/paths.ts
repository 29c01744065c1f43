import { existsSync } from 'node:fs';
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
