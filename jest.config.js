// ESM-only oidc-provider under jest: native ESM (node --experimental-vm-modules, set by the npm
// script), TypeScript transformed by swc to ES modules, relative `.js` import specifiers mapped
// back to the `.ts` sources. swc does not type-check: `npm test` runs `tsc --noEmit` first.
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    }],
  },
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  setupFiles: ['<rootDir>/test/helpers/quiet-known-warnings.js'],
  // Integration tests start real servers (slapd, Chromium, Gatehouse processes); two CPUs here.
  maxWorkers: 2,
  testTimeout: 30000,
  verbose: false,
};
