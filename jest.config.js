// Root config: `npm test` runs every project's tests in one jest process and ends with
// the plain line `N passed, N failed` (tools/jest-summary-reporter.js).
module.exports = {
  projects: ['<rootDir>/apps/*/jest.config.js', '<rootDir>/libs/*/jest.config.js', '<rootDir>/deploy/jest.config.js'],
  reporters: ['default', '<rootDir>/tools/jest-summary-reporter.js'],
};
