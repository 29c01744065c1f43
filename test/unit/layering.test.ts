// Layering rules, checked on every import (type-only ones too: a linter's no-cycle rule does not see them):
// the folders of src/ sit in one order and a folder imports only from folders below it (so no folder-level
// cycle), the shared domain types import nothing of ours, planning is pure, nothing imports the command layer,
// the executor's shared types are a leaf, and no file-level cycle either. ARCHITECTURE.md says why.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FOLDER_ORDER } from './folder-order.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module a file imports (static, type-only, re-exports and dynamic imports), as repo-relative paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => (s.startsWith('.') ? relative(ROOT, resolve(dirname(file), s)).replace(/\.js$/, '.ts') : s));
}

const graph = new Map(files(SRC).map((f) => [relative(ROOT, f), importsOf(f)]));

/** src/a/b.ts → 'a'; src/errors.ts → 'errors.ts'; anything outside src/ → undefined. */
const folderOf = (file: string) => (file.startsWith('src/') ? file.split('/')[1] : undefined);

/** Modules that do I/O (network, files, processes, the clock of a run): planning must not reach them. */
const IO = [
  /^src\/executor\//,
  /^src\/commands\//,
  /^src\/output\//,
  /^src\/safety\//,
  /^src\/vip\/remote\.ts$/,
  /^src\/binlog\/log-reader\.ts$/,
  /^src\/topology\/(connection|probe|probe-accounts)\.ts$/,
  /^node:(fs|child_process|net|dns|os|dns\/promises)$/,
  /^(mysql2|mysql2\/promise|execa|listr2|jiti)$/,
];

describe('layering', () => {
  it('every folder imports only from folders below it in FOLDER_ORDER (no folder-level cycle)', () => {
    const unknown = [...new Set([...graph.keys()].map(folderOf))].filter((f) => !FOLDER_ORDER.includes(f!));
    expect(unknown, 'folders missing from FOLDER_ORDER').toEqual([]);
    const bad: string[] = [];
    for (const [file, deps] of graph) {
      const from = FOLDER_ORDER.indexOf(folderOf(file)!);
      for (const dep of deps) {
        const to = folderOf(dep);
        if (to !== undefined && FOLDER_ORDER.indexOf(to) > from) bad.push(`${file} → ${dep}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the domain types import nothing of ours', () => {
    const bad = [...graph]
      .filter(([f]) => f.startsWith('src/domain/'))
      .flatMap(([f, deps]) =>
        deps.filter((d) => d.startsWith('src/') && !d.startsWith('src/domain/')).map((d) => `${f} → ${d}`),
      );
    expect(bad).toEqual([]);
  });

  it('the order check catches an upward import', () => {
    const up = (file: string, dep: string) =>
      FOLDER_ORDER.indexOf(folderOf(dep)!) > FOLDER_ORDER.indexOf(folderOf(file)!);
    expect(up('src/dialect/dialect.ts', 'src/topology/identity.ts')).toBe(true);
    expect(up('src/algorithm/analyze-topology.ts', 'src/domain/outcome.ts')).toBe(false);
  });

  it('algorithm/ imports no I/O module, directly or through another module', () => {
    const bad: string[] = [];
    for (const [file] of graph) {
      if (!file.startsWith('src/algorithm/')) continue;
      const seen = new Set<string>();
      const walk = (f: string, path: string[]) => {
        for (const dep of graph.get(f) ?? []) {
          if (IO.some((re) => re.test(dep))) bad.push([...path, dep].join(' → '));
          else if (graph.has(dep) && !seen.has(dep)) {
            seen.add(dep);
            walk(dep, [...path, dep]);
          }
        }
      };
      walk(file, [file]);
    }
    expect(bad).toEqual([]);
  });

  it('nothing under src/ imports the command layer', () => {
    const bad = [...graph].filter(
      ([f, deps]) => !f.startsWith('src/commands/') && deps.some((d) => d.startsWith('src/commands/')),
    );
    expect(bad.map(([f]) => f)).toEqual([]);
  });

  it("the executor's shared types import no executor file", () => {
    expect((graph.get('src/executor/types.ts') ?? []).filter((d) => d.startsWith('src/executor/'))).toEqual([]);
  });

  it('has no import cycles, type-only imports included', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, stack: string[]) => {
      state.set(f, 'open');
      for (const dep of graph.get(f) ?? []) {
        if (!graph.has(dep)) continue;
        if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].join(' → '));
        else if (!state.has(dep)) visit(dep, [...stack, dep]);
      }
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f, [f]);
    expect(cycles).toEqual([]);
  });
});
