// The command line itself, no server: the version mmmf reports and shell completion.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../../harness/cluster.js';
const dir = mkdtempSync(join(tmpdir(), 'mmmf-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('command line', () => {
  it("--version prints mmmf's own version, also from a project whose package.json says otherwise", async () => {
    const own = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'someone-else', version: '9.9.9' }));
    const r = await execa('node', [CLI, '--version'], { cwd: dir, reject: false });
    expect([r.exitCode, r.stdout.trim()]).toEqual([0, own]);
  });

  it('prints a shell completion script', async () => {
    const r = await execa('node', [CLI, 'completion'], { cwd: dir, reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/complete .*mmmf|compdef/);
  });
});
