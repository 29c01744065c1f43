// etcd3 parses its protobuf files when imported (~0.4 s): `mmmf --help` and configs without coordination must
// never load it. Only type imports (erased) and `await import(...)` may name it, or the libraries under it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('etcd client loading', () => {
  it('no file imports etcd3, cockatiel or grpc statically', () => {
    const eager = /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'(etcd3|cockatiel|@grpc\/[^']+)'/gm;
    const bad = [...files(join(ROOT, 'src')), ...files(join(ROOT, 'bin'))].flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(eager)].map((m) => `${relative(ROOT, f)}: ${m[0].trim()}`),
    );
    expect(bad).toEqual([]);
  });

  it('the etcd store does load it, lazily', () => {
    const text = readFileSync(join(ROOT, 'src/state/etcd-client.ts'), 'utf8');
    expect(text).toContain("await import('etcd3')");
  });
});
