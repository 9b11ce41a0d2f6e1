/**
 * TLS key logging for the Node adapter: the NSS key log format
 * (`SSLKEYLOGFILE`) that Wireshark and tshark read to decrypt a capture of
 * QUIC packets (`-o tls.keylog_file:<file>`). One line per TLS secret:
 * `<label> <client random hex> <secret hex>`.
 *
 * Opt-in and for debugging only: anyone with the file can read the traffic.
 */
import { appendFileSync } from 'node:fs';

/** Where key log lines go: a file path (lines are appended) or a function called with each line (no newline). */
export type KeylogOption = string | ((line: string) => void);

/**
 * The connection's key log sink for an option. A file is appended to
 * synchronously: a handshake writes five lines, and a line written before the
 * process dies is the point of a key log.
 */
export function keylogSink(option: KeylogOption | undefined): ((line: string) => void) | undefined {
  if (option === undefined) return undefined;
  if (typeof option === 'function') return option;
  const path = option;
  return (line) => appendFileSync(path, `${line}\n`);
}
