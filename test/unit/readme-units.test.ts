// The README's systemd units for unattended runs must be valid units, not prose that looks like one.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const units = [...readme.matchAll(/```ini\n# (\/etc\/systemd\/system\/\S+)\n([\s\S]*?)```/g)].map((m) => ({
  name: basename(m[1]!),
  text: m[2]!,
}));
/** systemd-analyze, or why it cannot run: CI installs the systemd package for it (.ci/run). */
const systemdAnalyze = (() => {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch (err) {
    return `systemd-analyze is not available (${(err as Error).message.split('\n')[0]}): install the systemd package (apt-get install systemd; .ci/run does it in CI)`;
  }
})();

describe('README systemd units', () => {
  it('documents a service and a timer running mmmf --failover-to auto --if-dead --json, and a timer per monitor host', () => {
    expect(units.map((u) => u.name)).toEqual(['mmmf-failover.service', 'mmmf-failover.timer', 'mmmf-failover.timer']);
    expect(units[0]!.text).toMatch(
      /^ExecStart=.*mmmf --cfg \/etc\/mmmf\/mmmf.config.ts --failover-to auto --if-dead --json$/m,
    );
    // Several monitor hosts: every 30 s, each host at its own seconds, 10 s apart.
    const seconds = [...units[2]!.text.matchAll(/OnCalendar=\*:\*:(\d+),(\d+)/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(seconds).toEqual([
      [10, 40],
      [20, 50],
      [0, 30],
    ]);
  });

  // Never skipped: without the tool this fails, saying what to install.
  it('passes systemd-analyze verify (the service with each timer)', () => {
    expect(systemdAnalyze).toBeUndefined();
    for (const timer of [units[1]!, units[2]!]) {
      const dir = mkdtempSync(join(tmpdir(), 'mmmf-units-'));
      try {
        const pair = [units[0]!, timer];
        for (const u of pair) writeFileSync(join(dir, u.name), u.text);
        const r = spawnSync('systemd-analyze', ['verify', ...pair.map((u) => join(dir, u.name))], { encoding: 'utf8' });
        expect([r.status, r.stdout + r.stderr]).toEqual([0, '']); // a warning is a finding too
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
