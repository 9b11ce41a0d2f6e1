/**
 * Network paths of a {@link Connection} (RFC 9000 sections 8.2 and 9): path validation with
 * PATH_CHALLENGE / PATH_RESPONSE, the per-path anti-amplification budget of a path not validated yet,
 * and which peer connection ID each path uses (section 9.5).
 *
 * The connection decides when to switch paths (a non-probing packet from a new address, the client's
 * `migrate` command, preferred_address); this module keeps the state of every path it knows and says
 * which probe datagram to send next and when a validation is abandoned. It holds no keys and builds no
 * packets: a {@link PathProbe} is turned into a datagram by the sender.
 */
import type { Frame } from '../frame.js';
import { samePath, type Path, type SocketAddress } from './events.js';

/** Why the connection moved to another path (the `path-changed` event). */
export type PathChangeReason =
  /** The peer moved on purpose (it probed the path first), or we did (`migrate`). */
  | 'migration'
  /** The peer's address changed without a probe first: a NAT rebinding, as far as we can tell. */
  | 'rebinding'
  /** The client moved to the server's preferred_address (RFC 9000 section 9.6). */
  | 'preferred-address'
  /** Validation of the path we had moved to failed: back to the last validated path (section 9.3.2). */
  | 'revert';

/** A peer connection ID as a path uses it. */
export interface PathCid {
  readonly sequence: number;
  readonly cid: Uint8Array;
}

/** One path and its validation state. */
export interface PathEntry {
  readonly path: Path;
  /** The peer connection ID our packets on this path carry (null: not chosen yet). */
  dcid: PathCid | null;
  validated: boolean;
  /** Data of the PATH_CHALLENGE frames sent and not answered (section 8.2.1: several may be outstanding). */
  readonly challenges: Uint8Array[];
  /** When to send the next PATH_CHALLENGE (null: not validating). */
  nextChallengeAt: number | null;
  /** When validation is abandoned (section 8.2.4), null when not validating. */
  deadline: number | null;
  /** PATH_CHALLENGE data to echo in PATH_RESPONSE on this path (section 8.2.2). */
  readonly responses: Uint8Array[];
  /** Bytes received and sent on the path while it is not validated (section 8.1: at most three times). */
  received: number;
  sent: number;
  /** The peer sent PATH_CHALLENGE on this path (it probed before moving: a migration, not a rebinding). */
  peerProbed: boolean;
  /** Last time a datagram arrived on it (for forgetting old paths). */
  lastSeen: number;
}

/** A datagram to send on a path other than (or besides) the connection's normal traffic. */
export interface PathProbe {
  readonly entry: PathEntry;
  readonly frames: Frame[];
  /** Section 8.2.1/8.2.2: a datagram with PATH_CHALLENGE or PATH_RESPONSE is expanded to 1200 bytes. */
  readonly padTo: number;
}

/** Section 8.2.1: "smallest allowed maximum datagram size of 1200 bytes". */
export const PATH_PROBE_SIZE = 1200;
/** Smallest datagram worth sending with a PATH_* frame (header, frame, tag, room for padding). */
const MIN_PROBE_SIZE = 64;
/** Most PATH_RESPONSE kept per path: a flood of challenges keeps only the latest few. */
const MAX_RESPONSES = 4;
/** Most PATH_CHALLENGE data kept outstanding per path. */
const MAX_CHALLENGES = 8;
/** Most paths remembered; the least recently seen that is not in use is forgotten first. */
const MAX_PATHS = 8;
/** PATH_CHALLENGE carries 8 bytes (section 19.17). */
const CHALLENGE_LENGTH = 8;

export interface PathManagerOptions {
  /** Unpredictable bytes (section 8.2.1: "the endpoint MUST use unpredictable data in every PATH_CHALLENGE"). */
  readonly random: (n: number) => Uint8Array;
}

export class PathManager {
  private readonly random: (n: number) => Uint8Array;
  private readonly entries: PathEntry[] = [];
  /** Counters for tests and logs. */
  readonly stats = { challengesSent: 0, responsesSent: 0, challengesReceived: 0, responsesReceived: 0, validated: 0, failed: 0 };

  constructor(options: PathManagerOptions) {
    this.random = options.random;
  }

  /** The entry of `path`, if known. */
  find(path: Path): PathEntry | undefined {
    return this.entries.find((e) => samePath(e.path, path));
  }

  /** The entry of `path`, created (not validated) if new. `inUse` paths are never forgotten to make room. */
  entry(path: Path, now: number, inUse: (e: PathEntry) => boolean): PathEntry {
    const known = this.find(path);
    if (known !== undefined) return known;
    if (this.entries.length >= MAX_PATHS) {
      let oldest = -1;
      for (let i = 0; i < this.entries.length; i++) {
        const e = this.entries[i]!;
        if (inUse(e)) continue;
        if (oldest < 0 || e.lastSeen < this.entries[oldest]!.lastSeen) oldest = i;
      }
      if (oldest >= 0) this.entries.splice(oldest, 1);
    }
    const e: PathEntry = {
      path,
      dcid: null,
      validated: false,
      challenges: [],
      nextChallengeAt: null,
      deadline: null,
      responses: [],
      received: 0,
      sent: 0,
      peerProbed: false,
      lastSeen: now,
    };
    this.entries.push(e);
    return e;
  }

  /** A datagram of `bytes` arrived on the entry's path. */
  onReceived(e: PathEntry, bytes: number, now: number): void {
    e.lastSeen = now;
    if (!e.validated) e.received += bytes;
  }

  /** Bytes the anti-amplification limit lets us send on the path now (section 8.1 applies to new paths, 9.3). */
  budget(e: PathEntry): number {
    return e.validated ? Infinity : Math.max(0, 3 * e.received - e.sent);
  }

  /** A PATH_CHALLENGE arrived on the entry's path: answer on that path (section 8.2.2). */
  onChallenge(e: PathEntry, data: Uint8Array): void {
    this.stats.challengesReceived++;
    e.peerProbed = true;
    if (e.responses.length >= MAX_RESPONSES) e.responses.shift();
    e.responses.push(data.slice());
  }

  /**
   * A PATH_RESPONSE arrived (on any path: section 8.2.2, "a PATH_RESPONSE frame received on any network
   * path validates the path on which the PATH_CHALLENGE was sent"). Returns the path it validates, or null
   * when it matches no outstanding challenge (section 8.2.3: ignored).
   */
  onResponse(data: Uint8Array): PathEntry | null {
    this.stats.responsesReceived++;
    for (const e of this.entries) {
      if (!e.challenges.some((c) => equal8(c, data))) continue;
      e.challenges.length = 0;
      e.nextChallengeAt = null;
      e.deadline = null;
      if (!e.validated) this.stats.validated++;
      e.validated = true;
      return e;
    }
    return null;
  }

  /**
   * Starts (or restarts) validating the path: a first PATH_CHALLENGE goes out at once, then one per
   * `interval` until `timeout` ms have passed (section 8.2.4).
   */
  startValidation(e: PathEntry, now: number, timeout: number): void {
    e.validated = false;
    e.nextChallengeAt = now;
    e.deadline = now + timeout;
  }

  /** Marks a path validated without a challenge (the handshake validated it, section 8.1). */
  markValidated(e: PathEntry): void {
    e.validated = true;
    e.nextChallengeAt = null;
    e.deadline = null;
    e.challenges.length = 0;
  }

  /** Paths whose validation timed out at `now`; they are forgotten. */
  takeFailed(now: number): PathEntry[] {
    const failed: PathEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.deadline !== null && now >= e.deadline) {
        this.entries.splice(i, 1);
        this.stats.failed++;
        failed.push(e);
      }
    }
    return failed;
  }

  /**
   * The next probe datagram due at `now`: PATH_RESPONSE frames owed on a path and a PATH_CHALLENGE when
   * one is due, within the path's budget; null when nothing is due. `budgetOf` says how many bytes may go
   * on a path (the connection's current path has its own accounting in the sender).
   */
  nextProbe(now: number, interval: number, budgetOf: (e: PathEntry) => number): PathProbe | null {
    for (const e of this.entries) {
      const challengeDue = e.nextChallengeAt !== null && now >= e.nextChallengeAt;
      if (e.responses.length === 0 && !challengeDue) continue;
      const budget = budgetOf(e);
      if (budget < MIN_PROBE_SIZE) continue;
      const frames: Frame[] = [];
      for (const data of e.responses) frames.push({ type: 'path-response', data });
      this.stats.responsesSent += e.responses.length;
      e.responses.length = 0;
      if (challengeDue) {
        const data = this.random(CHALLENGE_LENGTH);
        if (e.challenges.length >= MAX_CHALLENGES) e.challenges.shift();
        e.challenges.push(data);
        frames.push({ type: 'path-challenge', data });
        this.stats.challengesSent++;
        // Section 8.2.1: "An endpoint SHOULD NOT probe a new path with packets containing a PATH_CHALLENGE
        // frame more frequently than it would send an Initial packet" (once per PTO).
        e.nextChallengeAt = now + interval;
      }
      return { entry: e, frames, padTo: Math.min(PATH_PROBE_SIZE, budget) };
    }
    return null;
  }

  /** The earliest time something is due (a challenge, an abandoned validation, an owed response), or null. */
  deadline(now: number, budgetOf: (e: PathEntry) => number): number | null {
    let d: number | null = null;
    const at = (t: number): void => {
      if (d === null || t < d) d = t;
    };
    for (const e of this.entries) {
      if (e.deadline !== null) at(e.deadline);
      // A path held back by its amplification budget waits for the peer's next datagram, not for a timer.
      if (budgetOf(e) < MIN_PROBE_SIZE) continue;
      if (e.responses.length > 0) at(now);
      if (e.nextChallengeAt !== null) at(Math.max(now, e.nextChallengeAt));
    }
    return d;
  }
}

/** Constant length comparison of challenge data (both 8 bytes when valid). */
function equal8(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// ---------------------------------------------------------------------------------------------------
// preferred_address (RFC 9000 section 9.6): addresses as text (SocketAddress) <-> the parameter's bytes

/** The server's preferred addresses, one per family (RFC 9000 section 18.2: either may be absent). */
export interface PreferredAddressOption {
  readonly ipv4?: SocketAddress;
  readonly ipv6?: SocketAddress;
}

/** An IPv4 dotted quad as 4 bytes, or null when `text` is not one. */
export function ipv4Bytes(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** An IPv6 address in text form (RFC 4291 section 2.2, with `::` and a trailing dotted quad) as 16 bytes, or null. */
export function ipv6Bytes(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = ipv4Bytes(p);
        if (v4 === null) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

/** 4 bytes as a dotted quad. */
export function ipv4Text(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** 16 bytes as IPv6 text, the longest run of two or more zero groups written `::` (RFC 5952 section 4.2). */
export function ipv6Text(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** The address family of `a` as a driver writes it: a colon means IPv6. */
export function isIpv6(a: SocketAddress): boolean {
  return a.address.includes(':');
}
