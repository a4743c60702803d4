#!/usr/bin/env node
'use strict';
// `npx apogee ...`: the admin CLI (apps/cli), with no build step.
//
// The root package.json lists this folder as the devDependency "apogee-cli-bin":
// "file:tools/apogee-bin", so `npm ci` links this file as node_modules/.bin/apogee. It loads
// tsx's CommonJS hook in this same process, with the CLI's tsconfig (for the @apogee/* path
// aliases), and requires apps/cli/src/main.ts. The source always wins over a build, so the CLI
// never runs stale code; only where tsx is missing (an install without dev dependencies) does it
// run the bundle of `npx nx run cli:build`, dist/apps/cli/main.js.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const source = path.join(root, 'apps', 'cli', 'src', 'main.ts');
const tsconfig = path.join(root, 'apps', 'cli', 'tsconfig.json');
const bundle = path.join(root, 'dist', 'apps', 'cli', 'main.js');

function loadTsx() {
  try {
    return require(require.resolve('tsx/cjs/api', { paths: [root] }));
  } catch {
    return undefined;
  }
}

const tsx = fs.existsSync(source) ? loadTsx() : undefined;
if (tsx !== undefined) {
  process.env.TSX_TSCONFIG_PATH = tsconfig; // read by register()
  tsx.register();
  require(source);
} else if (fs.existsSync(bundle)) {
  require(bundle);
} else {
  process.stderr.write('apogee: cannot start: tsx is not installed (run `npm ci`) and there is no build (`npx nx run cli:build`)\n');
  process.exitCode = 1;
}
