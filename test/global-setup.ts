// Once per run: make sure MariaDB is installed (the sandbox script installs it from the OS packages when
// missing), so test files starting clusters in parallel do not race apt.
import { execa } from 'execa';
import { join } from 'node:path';

export default async function setup() {
  await execa('bash', [join(import.meta.dirname, '../scripts/sandbox.sh'), 'install'], { stdio: 'inherit' });
}
