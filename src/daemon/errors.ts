/**
 * Why a daemon could not start. Like a ConfigError, it is the operator's to fix: `shoal start`
 * prints the message on one line and exits with status 2.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Exit statuses of `shoal start`, as documented in docs/OPERATIONS.md. */
export const ExitStatus = {
  /** Stopped gracefully (left the cluster, handed off, drained clients). */
  ok: 0,
  /** Stopped, but the graceful shutdown did not finish before --shutdown-timeout, or a fatal error. */
  failed: 1,
  /** Could not start: bad configuration, a port in use, an unreadable file. */
  badConfig: 2,
} as const;

/**
 * The StartupError for a listener that failed to bind, with a message that says what to do, or
 * the error itself when it is not a binding problem.
 */
export function listenError(error: unknown, what: string, host: string, port: number, flag: string): Error {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`the ${what} port ${host}:${port} is already in use (another node?); choose another with ${flag}`, { cause: error });
    case 'EACCES':
      return new StartupError(`no permission to listen on ${host}:${port} for the ${what} port; use a port above 1023 with ${flag}`, { cause: error });
    case 'EADDRNOTAVAIL':
      return new StartupError(`cannot listen on ${host}: no such local address; check --host`, { cause: error });
    // A --host name that does not resolve (the listen looks it up first).
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
    case 'EAI_NONAME':
      return new StartupError(`cannot listen on ${host}: the name does not resolve to an address (${code}); check --host`, { cause: error });
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}
