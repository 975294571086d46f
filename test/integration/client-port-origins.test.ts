/**
 * The client (SDK) port of a real daemon against web pages (cross-site WebSocket hijacking,
 * src/security/origins.ts): a browser sends its page's Origin with every upgrade and lets any page
 * dial loopback. On a node open to anyone (no password), only local pages and --allowed-origins
 * may upgrade; a refusal is an HTTP 403 saying how to allow the page, logged once a minute per
 * origin. On a node that needs a password, any page may upgrade (it must still log in) unless
 * --allowed-origins narrows it. Clients without Origin (Node, the CLI) are never refused for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../../src/daemon/ports.ts';
import { WebSocket } from 'ws';
import { connect, ConnectionError, type WebSocketLike } from '../../src/index.ts';
import { DaemonProcess, tempDir, until } from './daemon-harness.ts';
import { StandardWebSocket, upgrade } from './client-helpers.ts';

async function startNode(t: { after: (f: () => unknown) => void }, name: string, extra: string[]): Promise<{ node: DaemonProcess; port: number }> {
  const [port, peerPort] = await freePorts(2);
  const node = new DaemonProcess({ name, port: port!, peerPort: peerPort!, seeds: [], extra });
  t.after(() => node.stop());
  await node.start();
  return { node, port: port! };
}

function passwordFile(): string {
  const file = join(tempDir('shoal-origins-'), 'password');
  writeFileSync(file, 'correct horse battery\n', { mode: 0o600 });
  return file;
}

const refusalLines = (node: DaemonProcess, origin: string) => node.logs.filter((l) => String(l.msg).startsWith("refused a browser's WebSocket") && l.origin === origin);

const TRIES = 20;

test('an open node upgrades clients without Origin and local pages, and refuses other pages with a 403 logged once', async (t) => {
  const { node, port } = await startNode(t, 'or1', []);
  assert.equal((await upgrade(port)).status, 101, 'no Origin: not a browser');
  assert.equal((await upgrade(port, 'http://localhost:3000')).status, 101);
  assert.equal((await upgrade(port, 'http://127.0.0.1:8080')).status, 101);
  assert.equal((await upgrade(port, 'http://[::1]:5173')).status, 101);

  for (let i = 0; i < TRIES; i++) {
    const refused = await upgrade(port, 'https://evil.example');
    assert.equal(refused.status, 403);
    assert.match(refused.body, /origin https:\/\/evil\.example is not local and this node needs no password/);
    assert.match(refused.body, /--allowed-origins https:\/\/evil\.example/);
  }
  // A DNS-rebinding page reaches loopback under its own name, which is its origin.
  assert.equal((await upgrade(port, 'http://rebind.example:7400')).status, 403);
  // Lines come out in order: once the last origin's is in, every evil.example line is too.
  await until('the rebinding page refusal line', () => (refusalLines(node, 'http://rebind.example:7400').length > 0 ? true : undefined), 10_000);
  const lines = refusalLines(node, 'https://evil.example');
  assert.equal(lines.length, 1, `${TRIES} refusals of one origin make one line a minute: ${JSON.stringify(lines)}`);
  assert.equal(lines[0]!.level, 40, 'warn');
  assert.equal(lines[0]!.remote, '127.0.0.1');
  assert.equal((await upgrade(port)).status, 101, 'still serving');
});

test('--allowed-origins on an open node: only the pages listed', async (t) => {
  const { port } = await startNode(t, 'or2', ['--allowed-origins', 'HTTPS://Evil.Example:443']);
  assert.equal((await upgrade(port)).status, 101);
  assert.equal((await upgrade(port, 'https://evil.example')).status, 101, 'listed (case and default port normalised)');
  const local = await upgrade(port, 'http://localhost:3000');
  assert.equal(local.status, 403, 'the list replaces the local-pages rule');
  assert.match(local.body, /not in --allowed-origins/);
});

test('a node that needs a password: any page without --allowed-origins, only the listed ones with it', async (t) => {
  const file = passwordFile();
  const [any, listed] = await Promise.all([
    startNode(t, 'or3', ['--default-password-file', file]),
    startNode(t, 'or4', ['--default-password-file', file, '--allowed-origins', 'https://app.example']),
  ]);
  assert.equal((await upgrade(any.port, 'https://evil.example')).status, 101, 'the page must still log in');
  assert.equal((await upgrade(listed.port)).status, 101);
  assert.equal((await upgrade(listed.port, 'https://app.example')).status, 101);
  assert.equal((await upgrade(listed.port, 'https://evil.example')).status, 403);
});

/**
 * A page's WebSocket as the SDK sees it in a browser: `ws` sending the page's Origin, showing only
 * the WHATWG API; `hidden`: its error events carry no detail, as a browser's never do (it does not
 * tell a page why an upgrade failed).
 */
function pageWebSocket(origin: string, hidden: boolean): new (url: string) => WebSocketLike {
  return class PageWebSocket extends StandardWebSocket {
    constructor(url: string) {
      super(new WebSocket(url, { origin }));
    }
    override addEventListener(type: 'open' | 'message' | 'error' | 'close', listener: (event: never) => void): void {
      if (type === 'error' && hidden) this.socket.addEventListener('error', () => (listener as (event: object) => void)({ type: 'error' }));
      else super.addEventListener(type, listener);
    }
  };
}

test("the SDK in a page an open node refuses says the node may refuse the page's origin, not a certificate or a bare error", async (t) => {
  const { port } = await startNode(t, 'or5', []);
  for (const hidden of [false, true]) {
    await assert.rejects(
      connect({ seeds: `127.0.0.1:${port}`, webSocket: pageWebSocket('https://evil.example', hidden), connectTimeoutMs: 3000 }),
      (e: Error) => e instanceof ConnectionError && /refused this page's origin|refusing this page's origin/.test(e.message) && /--allowed-origins/.test(e.message),
      hidden ? 'detail hidden, as in a browser' : 'HTTP 403 shown',
    );
  }
  const local = await connect({ seeds: `127.0.0.1:${port}`, webSocket: pageWebSocket('http://localhost:3000', true), connectTimeoutMs: 10_000 });
  t.after(() => local.close());
  await local.set('k', 'v');
  assert.equal(await local.get('k'), 'v');
});
