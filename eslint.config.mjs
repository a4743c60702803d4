import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Module boundaries (ARCHITECTURE.md): apps never import apps; storage and routing import
// nothing of ours and no gRPC; runtime may use protocol; testing is for tests only.
const grpc = ['@grpc/*', 'grpc-health-check'];
const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:storage', 'type:model', 'type:protocol', 'type:runtime', 'type:testing'] },
  { sourceTag: 'type:storage', onlyDependOnLibsWithTags: [], bannedExternalImports: grpc },
  { sourceTag: 'type:model', onlyDependOnLibsWithTags: [], bannedExternalImports: [...grpc, 'node:fs', 'fs'] },
  { sourceTag: 'type:protocol', onlyDependOnLibsWithTags: ['type:model'] },
  { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:protocol'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:storage', 'type:model', 'type:protocol', 'type:runtime'] },
];

export default tseslint.config(
  { ignores: ['**/dist', '**/node_modules', '**/generated/**', '**/*.js', '**/*.mjs', 'tmp', 'data', '.nx'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': ['error', { allow: [], depConstraints }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
