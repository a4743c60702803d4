module.exports = { displayName: 'nameserver', preset: '../../jest.preset.js', rootDir: __dirname };
