// Layering rules, checked on every import (type-only ones too: a linter's no-cycle rule does not see them):
// planning is pure, nothing imports the command layer, the executor's shared types are a leaf, no cycles.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

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

/** Modules that do I/O (network, files, processes, the clock of a run): planning must not reach them. */
const IO = [
  /^src\/executor\//,
  /^src\/commands\//,
  /^src\/output\//,
  /^src\/safety\//,
  /^src\/vip\/remote\.ts$/,
  /^src\/binlog\/log-reader\.ts$/,
  /^src\/topology\/(connection|probe|probe-accounts|load-config)\.ts$/,
  /^node:(fs|child_process|net|dns|os|dns\/promises)$/,
  /^(mysql2|mysql2\/promise|execa|listr2|jiti)$/,
];

describe('layering', () => {
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
