// An empty --allowed-origins refused every browser's page without a word (origin39's doubt): it is
// more often a variable left empty (`--allowed-origins "$ORIGINS"`) than a wish. It is now refused
// at start, saying so; `none`, alone, is how to refuse every page. An empty SHOAL_ALLOWED_ORIGINS
// was, and stays, "not given", as every empty SHOAL_* variable is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ConfigError, resolveConfig } from '../../src/daemon/config.ts';
import { originRefusal } from '../../src/security/origins.ts';

const EMPTY = /^--allowed-origins: an empty list refuses every browser's page; give the pages to allow \(http:\/\/localhost:5173\), or none to refuse every page$/;

const allowed = (flags: Record<string, string>, env: NodeJS.ProcessEnv = {}) => resolveConfig({ flags, env }).allowedOrigins;

test('an empty --allowed-origins is refused at start, saying what it would do and what to write instead', () => {
  for (const given of ['', ' ', ',', ' , ']) {
    assert.throws(() => allowed({ 'allowed-origins': given }), (e: Error) => e instanceof ConfigError && EMPTY.test(e.message), JSON.stringify(given));
  }
  const file = join(mkdtempSync(join(tmpdir(), 'shoal-origins-')), 'config.json');
  writeFileSync(file, JSON.stringify({ 'allowed-origins': [] }));
  assert.throws(() => allowed({ config: file }), (e: Error) => e instanceof ConfigError && e.message.startsWith(`"allowed-origins" in ${file}: an empty list refuses every browser's page`));
  assert.equal(allowed({}, { SHOAL_ALLOWED_ORIGINS: '' }), null, 'an empty variable is not given');
});

test('--allowed-origins none refuses every page, says so in the refusal, and stands alone', () => {
  const none = allowed({ 'allowed-origins': 'none' });
  assert.deepEqual(none, []);
  for (const open of [true, false]) {
    assert.equal(
      originRefusal('http://localhost:5173', { allowed: none, ownHosts: [] }, open),
      "the page's origin http://localhost:5173 is refused: this node takes no page (--allowed-origins none); list the pages to allow instead (--allowed-origins http://localhost:5173)",
    );
  }
  assert.throws(
    () => allowed({ 'allowed-origins': 'none,http://localhost:5173' }),
    (e: Error) => e instanceof ConfigError && e.message === '--allowed-origins: none refuses every page, so it stands alone: give it or the pages to allow, not both',
  );
});
