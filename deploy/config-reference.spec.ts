import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_REFERENCE_PATH, renderConfigReference } from './config-reference';

describe('docs/config-reference.md', () => {
  it('matches the config schemas (run npm run docs:config after changing a field)', () => {
    const committed = readFileSync(path.join(__dirname, '..', CONFIG_REFERENCE_PATH), 'utf8');
    expect(committed).toBe(renderConfigReference());
  });
});
