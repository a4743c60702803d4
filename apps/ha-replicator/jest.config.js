module.exports = { displayName: 'ha-replicator', preset: '../../jest.preset.js', rootDir: __dirname };
