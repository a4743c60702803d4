module.exports = { displayName: 'index-service', preset: '../../jest.preset.js', rootDir: __dirname };
