/** One command runs everything: unit tests (pure, no I/O) and integration tests (real servers). */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.jest.json' }];

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,   // a global option: jest ignores it inside a project
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/src', '<rootDir>/bench'],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['reflect-metadata'],
    },
  ],
};
