// Once per run: make sure MariaDB and etcd are installed (each from the OS packages when missing: the sandbox
// script installs MariaDB, harness/etcd.ts etcd), one after the other and before any test file starts, so test
// files starting clusters in parallel do not race apt.
import { execa } from 'execa';
import { join } from 'node:path';
import { ensureEtcdInstalled } from '../harness/etcd.js';

export default async function setup() {
  await execa('bash', [join(import.meta.dirname, '../scripts/sandbox.sh'), 'install'], { stdio: 'inherit' });
  await ensureEtcdInstalled();
}
