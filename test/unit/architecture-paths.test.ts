// ARCHITECTURE.md is a map: every file and folder it names must exist, or the map leads nowhere.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FOLDER_ORDER } from './folder-order.js';

const ROOT = join(import.meta.dirname, '../..');
const text = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
/** Every `path` in code quotes that starts in one of the repository's folders. */
const paths = [...text.matchAll(/`((?:src|bin|test|harness|scripts)\/[\w./-]*)`/g)].map((m) => m[1]!);
/** Files a table cell names within the folder before it: `src/executor/actions/` (`fence.ts`, ...). */
const inFolder = [...text.matchAll(/`((?:src|test)\/[\w/-]+\/)` \(([^)]*)\)/g)].flatMap((m) =>
  [...m[2]!.matchAll(/`([\w.-]+\.ts)`/g)].map((f) => m[1]! + f[1]!),
);

describe('ARCHITECTURE.md', () => {
  it('names real paths', () => {
    expect(paths.length).toBeGreaterThan(40);
    expect(inFolder.length).toBeGreaterThan(8);
    expect([...paths, ...inFolder].filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it('lists the folders in the order the layering test enforces', () => {
    const listed = [...text.slice(text.indexOf('## Layering')).matchAll(/^\| `src\/([\w.]+)\/?` \|/gm)].map(
      (m) => m[1],
    );
    expect(listed).toEqual(FOLDER_ORDER.filter((f) => f !== 'index.ts'));
  });
});
