/**
 * Keeps the README true: every ```ts block that imports from `pullwire/...` is
 * transpiled and run against the built package (resolved through the
 * package's own `exports` map, as a user's import would be). Blocks fenced
 * as ```ts no-run (they need a server) are only checked to exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => /from 'pullwire\//.test(code));

test('the README has runnable examples', () => {
  assert.ok(blocks.length >= 1, 'no ```ts block importing pullwire/... found in README.md');
});

blocks.forEach((code, i) => {
  const title = code.split('\n').find((l) => l.startsWith('import')) ?? `block ${i}`;
  test(`README example ${i + 1} runs (${title.slice(0, 60)})`, async () => {
    const js = ts.transpileModule(code, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    }).outputText;
    // Inside the package directory so `pullwire/...` resolves through package.json "exports".
    const dir = join(root, 'dist', '.readme');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `example-${i + 1}.mjs`);
    writeFileSync(file, `${js}\nexport {};\n`);
    try {
      await import(`${pathToFileURL(file).href}?t=${Date.now()}`);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
