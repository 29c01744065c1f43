// Test-only fault injection cannot be reached from the environment of an installed mmmf.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { faultsAllowed, faultsFromEnv } from '../../src/executor/faults.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const pkg = (root: string, harness: boolean) => {
  mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'mmmf' }));
  if (harness) mkdirSync(join(root, 'harness'));
  return join(root, 'dist', 'cli');
};

describe('fault injection gate', () => {
  it('is open in a checkout of the repository, closed in an installed package', () => {
    dir = mkdtempSync(join(tmpdir(), 'mmmf-gate-'));
    expect(faultsAllowed(pkg(join(dir, 'checkout'), true))).toBe(true);
    expect(faultsAllowed(pkg(join(dir, 'lib', 'node_modules', 'mmmf'), false))).toBe(false);
    // Even a package copied with its harness is closed when it is installed (under node_modules).
    expect(faultsAllowed(pkg(join(dir, 'other', 'node_modules', 'mmmf'), true))).toBe(false);
    expect(faultsAllowed(join(dir))).toBe(false);
  });

  it('this checkout honours MMMF_TEST_* (the tests rely on it), and nothing is read without them', () => {
    dir = mkdtempSync(join(tmpdir(), 'mmmf-gate-'));
    expect(faultsFromEnv({ MMMF_TEST_FAIL_AT_STEP: '3' }, import.meta.dirname)).toBeDefined();
    expect(faultsFromEnv({ PATH: '/bin' }, import.meta.dirname)).toBeUndefined();
  });
});
