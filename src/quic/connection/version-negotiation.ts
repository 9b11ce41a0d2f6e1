/**
 * Compatible version negotiation (RFC 9368) between QUIC v1 and v2 (RFC 9369): the choice the server
 * makes and the checks both sides make on the `version_information` transport parameter (0x11).
 *
 * The flow, for a client that starts in v1 and lists v2 as well:
 * 1. the client's first Initial is v1, its version_information says Chosen Version v1, Available
 *    Versions [v1, v2] (section 5: the client's list, in its order of preference);
 * 2. the server reads the ClientHello and picks the version it prefers among those the client listed
 *    ({@link chooseVersion}, section 2.3); if that is v2, its first flight is already v2 (Initial keys
 *    from the client's original Destination Connection ID with the v2 salt, RFC 9369 section 3.3.1),
 *    and its version_information says Chosen Version v2;
 * 3. the client sees a v2 Initial, moves to v2 (section 2.4: "the client MUST use the negotiated
 *    version" from then on), and checks the server's version_information once the handshake has
 *    authenticated it ({@link checkServerVersionInformation}, section 4).
 *
 * Downgrade protection (section 4): the version_information of each side is in the TLS handshake, so an
 * attacker who rewrites packet versions (or the Initial's plaintext, which anyone can decrypt) is caught
 * by a mismatch: VERSION_NEGOTIATION_ERROR (0x11).
 */
import { TransportError } from '../errors.js';
import { isSupportedVersion } from '../packet-protection.js';
import type { VersionInformation } from '../transport-params.js';

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

function negotiationError(reason: string): TransportError {
  return new TransportError('VERSION_NEGOTIATION_ERROR', reason);
}

/**
 * Server, on the client's version_information (null: absent). `original` is the version of the Initial
 * that carried the ClientHello; `preferred` our versions in order of preference. Returns the negotiated
 * version. Section 4: "If the Chosen Version does not match the version in use by the connection, the
 * server MUST close the connection with a VERSION_NEGOTIATION_ERROR". Without the parameter there is no
 * compatible negotiation: the connection stays in `original`.
 */
export function chooseVersion(client: VersionInformation | null, original: number, preferred: readonly number[]): number {
  if (client === null) return original;
  if (client.chosenVersion !== original)
    throw negotiationError(`client's Chosen Version ${hex(client.chosenVersion)} is not the version of its Initial (${hex(original)})`);
  // Section 2.3: the server picks a version it supports that the client listed (ours first: the server
  // decides); only versions compatible with the original's first flight can be reached without a round
  // trip, which holds between v1 and v2 (RFC 9369 section 4).
  for (const v of preferred) if (isSupportedVersion(v) && client.availableVersions.includes(v)) return v;
  return original;
}

/**
 * Client, on the server's version_information, once the handshake authenticated it. `negotiated` is the
 * version the connection uses now; `original` the one it started with. Section 4: the server's Chosen
 * Version must be the negotiated one; a server that switched versions must have sent the parameter.
 */
export function checkServerVersionInformation(server: VersionInformation | null, negotiated: number, original: number): void {
  if (server === null) {
    if (negotiated !== original)
      throw negotiationError(`version changed from ${hex(original)} to ${hex(negotiated)} without version_information`);
    return;
  }
  if (server.chosenVersion !== negotiated)
    throw negotiationError(`server's Chosen Version ${hex(server.chosenVersion)} is not the negotiated ${hex(negotiated)}`);
}

/**
 * Client: whether a server packet of `version` moves our connection (started in `current`) there: a
 * supported version we listed in our Available Versions (section 2.4: a client "MUST NOT" accept a version
 * it did not offer).
 */
export function acceptsServerVersion(version: number, current: number, offered: readonly number[]): boolean {
  return version !== current && isSupportedVersion(version) && offered.includes(version);
}
