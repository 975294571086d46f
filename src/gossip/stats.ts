/** The counters a SWIM member keeps for operators and checkers: traffic, drops and protocol verdicts. */

export interface SwimStats {
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
  /** Inbound messages dropped because they failed to decode or validate. */
  malformed: number;
  oversized: number;
  unsupportedVersion: number;
  foreignCluster: number;
  /** Messages dropped because their sender runs a protocol version we do not accept (protocol-version.ts). */
  incompatibleVersion: number;
  /** Pings addressed to another member name (an address reused after a restart). */
  misdirected: number;
  /** New members refused because the table was full. */
  tableFull: number;
  probes: number;
  probesFailed: number;
  indirectProbes: number;
  suspicionsRaised: number;
  refutations: number;
  deathsDeclared: number;
  pushPulls: number;
  /** Bytes of full-state syncs sent (bulk lane), also counted in bytesSent. */
  pushPullBytes: number;
  joinAttempts: number;
  reclaimed: number;
}

export function emptySwimStats(): SwimStats {
  return {
    messagesSent: 0,
    bytesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    malformed: 0,
    oversized: 0,
    unsupportedVersion: 0,
    foreignCluster: 0,
    incompatibleVersion: 0,
    misdirected: 0,
    tableFull: 0,
    probes: 0,
    probesFailed: 0,
    indirectProbes: 0,
    suspicionsRaised: 0,
    refutations: 0,
    deathsDeclared: 0,
    pushPulls: 0,
    pushPullBytes: 0,
    joinAttempts: 0,
    reclaimed: 0,
  };
}
