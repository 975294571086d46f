// Where Debian's chromium is, for the tests that drive a real browser (puppeteer-core).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's chromium (.ci/run installs it): /usr/bin/chromium, or whatever `chromium` is on PATH. */
export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim().split('\n')[0]!;
  } catch {
    throw new Error('chromium not found: install Debian\'s chromium package (apt-get install chromium), as .ci/run does, or set CHROMIUM_PATH');
  }
}

/** Launch arguments that work as root in a container (no sandbox, no GPU, no /dev/shm). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'];
