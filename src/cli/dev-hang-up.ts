/**
 * `shoal dev` when the terminal it runs in goes away (the window closed, an ssh session dropped):
 * the terminal sends SIGHUP, and from then on every write to it fails (EIO). Before, dev's next
 * write threw, the process died of it with its nodes killed rather than stopped, and Node 20
 * itself then crashed (SIGABRT or SIGSEGV): at exit it resets the terminal's modes, and asserts that
 * this works (nodejs/node#51519; Node 24 ignores the error).
 *
 * So while dev runs, output that went away starts the graceful stop instead of ending the process
 * (`guardOutput`), and a dev whose terminal is gone ends by SIGHUP (`endByHangUp`), as a hung-up
 * process does, which skips Node's exit path and its assertion.
 */

/** Why output failed, when it means nobody can read it any more; null for any other error. */
function goneReason(error: NodeJS.ErrnoException): string | null {
  if (error.code === 'EIO') return 'its terminal is gone (EIO writing to it)';
  if (error.code === 'EPIPE') return 'its output is gone (EPIPE: whatever read it exited)';
  return null;
}

export interface OutputGuard {
  /** Whether a write failed with EIO: the terminal is gone, and exiting normally would crash Node 20. */
  readonly terminalGone: () => boolean;
  /** Whether any output went away. */
  readonly outputGone: () => boolean;
  /** Puts back the listeners it replaced (the command line's: a broken pipe exits at once). */
  release(): void;
}

/**
 * Until released, an EIO or EPIPE on stdout, stderr or stdin calls `gone` once with why, and is
 * otherwise ignored; any other error is thrown, as before.
 */
export function guardOutput(gone: (why: string) => void): OutputGuard {
  const streams = [process.stdout, process.stderr, process.stdin];
  const replaced = streams.map((stream) => stream.listeners('error') as ((error: Error) => void)[]);
  let terminal = false;
  let output = false;
  const onError = (error: NodeJS.ErrnoException): void => {
    const why = goneReason(error);
    if (why === null) throw error;
    if (error.code === 'EIO') terminal = true;
    if (output) return;
    output = true;
    gone(why);
  };
  for (const stream of streams) {
    stream.removeAllListeners('error');
    stream.on('error', onError);
  }
  return {
    terminalGone: () => terminal,
    outputGone: () => output,
    release: () =>
      streams.forEach((stream, i) => {
        stream.off('error', onError);
        for (const listener of replaced[i]!) stream.on('error', listener);
      }),
  };
}

/** How long to wait for the SIGHUP sent to itself: it comes at once; this only bounds the wait. */
const SELF_SIGNAL_WAIT_MS = 1000;

/** Ends this process by SIGHUP (the default action: no exit handlers, no terminal reset); resolves only if that fails. */
export async function endByHangUp(): Promise<void> {
  // With no listener left, Node restores the default action.
  process.removeAllListeners('SIGHUP');
  process.kill(process.pid, 'SIGHUP');
  await new Promise((resolve) => setTimeout(resolve, SELF_SIGNAL_WAIT_MS));
}
