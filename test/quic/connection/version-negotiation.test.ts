/** RFC 9368 checks of version-negotiation.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptsServerVersion, checkServerVersionInformation, chooseVersion } from '../../../src/quic/connection/version-negotiation.js';
import { TransportError } from '../../../src/quic/errors.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/quic/version.js';

const isVnError = (e: unknown): boolean => e instanceof TransportError && e.code === 'VERSION_NEGOTIATION_ERROR' && e.errorCode === 0x11;

describe('compatible version negotiation', () => {
  it('server: picks its preferred version among those the client lists', () => {
    const client = { chosenVersion: QUIC_V1, availableVersions: [QUIC_V1, QUIC_V2] };
    assert.equal(chooseVersion(client, QUIC_V1, [QUIC_V2, QUIC_V1]), QUIC_V2);
    assert.equal(chooseVersion(client, QUIC_V1, [QUIC_V1, QUIC_V2]), QUIC_V1);
    assert.equal(chooseVersion({ chosenVersion: QUIC_V1, availableVersions: [QUIC_V1] }, QUIC_V1, [QUIC_V2, QUIC_V1]), QUIC_V1);
    assert.equal(chooseVersion(null, QUIC_V1, [QUIC_V2]), QUIC_V1);
    // Unknown versions the server lists are never chosen.
    assert.equal(
      chooseVersion({ chosenVersion: QUIC_V1, availableVersions: [0x1a2a3a4a, QUIC_V1] }, QUIC_V1, [0x1a2a3a4a, QUIC_V1]),
      QUIC_V1,
    );
  });

  it("server: a Chosen Version other than the Initial's is VERSION_NEGOTIATION_ERROR (section 4)", () => {
    assert.throws(() => chooseVersion({ chosenVersion: QUIC_V2, availableVersions: [QUIC_V2] }, QUIC_V1, [QUIC_V1]), isVnError);
  });

  it("client: the server's Chosen Version must be the negotiated version", () => {
    checkServerVersionInformation({ chosenVersion: QUIC_V2, availableVersions: [QUIC_V2] }, QUIC_V2, QUIC_V1);
    checkServerVersionInformation(null, QUIC_V1, QUIC_V1);
    assert.throws(
      () => checkServerVersionInformation({ chosenVersion: QUIC_V1, availableVersions: [QUIC_V1] }, QUIC_V2, QUIC_V1),
      isVnError,
    );
    assert.throws(() => checkServerVersionInformation(null, QUIC_V2, QUIC_V1), isVnError);
  });

  it('client: follows only supported versions it offered', () => {
    assert.ok(acceptsServerVersion(QUIC_V2, QUIC_V1, [QUIC_V1, QUIC_V2]));
    assert.ok(!acceptsServerVersion(QUIC_V2, QUIC_V1, [QUIC_V1]));
    assert.ok(!acceptsServerVersion(QUIC_V1, QUIC_V1, [QUIC_V1, QUIC_V2]));
    assert.ok(!acceptsServerVersion(0x1a2a3a4a, QUIC_V1, [QUIC_V1, 0x1a2a3a4a]));
  });
});
