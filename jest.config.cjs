/** Unit tests (*.spec.ts beside the code) and e2e suites (test/e2e), compiled by swc. */
const swcrc = require('fs').readFileSync(`${__dirname}/.swcrc`, 'utf8');
const swc = JSON.parse(swcrc);
delete swc.jsc.baseUrl;
delete swc.jsc.paths;
delete swc.$schema;

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/fixtures/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swc, swcrc: false }] },
  moduleNameMapper: {
    '^@parley/migrations$': '<rootDir>/migrations/index.ts',
    '^@parley/core/telemetry$': '<rootDir>/libs/core/src/telemetry/index.ts',
    '^@parley/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
  },
  // Generous: on a shared 2-core machine an app's boot and ingestion can take long; tests
  // assert behaviour, never time.
  testTimeout: 120_000,
  maxWorkers: 2,
  // PGlite and pooled sockets can outlive a suite by a moment; don't wait for them.
  forceExit: true,
};
