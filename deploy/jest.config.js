// The Kubernetes manifest checks (deploy/manifests.spec.ts); listed in the root jest.config.js.
module.exports = { displayName: 'deploy', preset: '../jest.preset.js', rootDir: __dirname };
