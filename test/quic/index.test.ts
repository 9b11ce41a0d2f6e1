/**
 * The public entries of the wire layer: `pullwire/quic` stays portable (nothing it loads imports
 * `node:*`, DESIGN.md "Layers and folders"), and the Node provider is reachable through
 * `pullwire/quic/node`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as quic from '../../src/quic/index.js';
import * as quicNode from '../../src/quic/node.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Every module the compiled file at `entry` loads through relative imports, and the non-relative specifiers. */
function importGraph(entry: string): { modules: Set<string>; external: string[] } {
  const modules = new Set<string>();
  const external: string[] = [];
  const visit = (file: string): void => {
    if (modules.has(file)) return;
    modules.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\s)(?:import|export)\b[^'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)|^import\s*'([^']+)'/gm)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else external.push(spec);
    }
  };
  visit(entry);
  return { modules, external };
}

describe('pullwire/quic entries', () => {
  it('the portable entry loads no node:* module', () => {
    const { modules, external } = importGraph(resolve(here, '../../src/quic/index.js'));
    assert.ok(modules.size > 5, 'the walk found the layer');
    assert.deepEqual(
      external.filter((s) => s.startsWith('node:')),
      [],
    );
  });

  it('the Node entry does reach node:crypto, and exports the provider', () => {
    const { external } = importGraph(resolve(here, '../../src/quic/node.js'));
    assert.ok(external.includes('node:crypto'), 'the walk follows imports into crypto/node.js');
    assert.equal(typeof quicNode.createNodeProvider, 'function');
    assert.equal(quicNode.createNodeProvider().name, 'node');
  });

  it('the portable entry exports the pipeline and the portable provider, and no internals', () => {
    for (const name of [
      'openDatagram',
      'PacketOpener',
      'protectDatagram',
      'PacketBuilder',
      'decodeFrames',
      'createNobleProvider',
    ] as const) {
      assert.equal(typeof quic[name], 'function', name);
    }
    const exported = new Set(Object.keys(quic));
    for (const internal of ['varint62', 'readU62', 'need', 'createNodeProvider', 'nobleAesHeaderProtection', 'writeNonce']) {
      assert.ok(!exported.has(internal), `${internal} is not public`);
    }
  });
});
