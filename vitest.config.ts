import { defineConfig } from 'vitest/config';

// Three suites (see ARCHITECTURE.md, Tests). unit and wire need no server and no root: npm run test:unit,
// npm run test:wire. live starts real MariaDB servers (and, as root, network namespaces), so only it installs
// MariaDB first (test/global-setup.ts). `npm test` runs all three.
export default defineConfig({
  test: {
    testTimeout: 240_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: two test files at a time, each with its own cluster on its own ports.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'wire', include: ['test/wire/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'live', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/global-setup.ts'] },
      },
    ],
  },
});
