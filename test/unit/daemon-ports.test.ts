// src/daemon/ports.ts: the ports tests and benchmarks draw for real daemons and servers stay out of
// the kernel's ephemeral range (where any outgoing connection may take them) and under a bound
// when one is given (a cluster-enabled redis-server needs its port + 10,000 for its bus).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { claimPorts, freePorts, randomPortOutsideEphemeral } from '../../src/daemon/ports.ts';

const claimFile = (port: number) => join(tmpdir(), 'shoal-port-claims', String(port));

/** A child process that claims `port` through the module, says so on stdout, then waits for stdin to end before exiting. */
async function claimingChild(port: number) {
  const module = new URL('../../src/daemon/ports.ts', import.meta.url).href;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    const { claimPorts } = await import(${JSON.stringify(module)});
    process.stdout.write(claimPorts([${port}]) ? 'claimed\\n' : 'refused\\n');
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, answer: line.toString().trim() };
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return [low!, high!];
  } catch {
    return [32_768, 65_535];
  }
}

test('drawn ports (and spans) stay outside the ephemeral range, from 20,000 up, and at most the bound', () => {
  const [low, high] = ephemeralRange();
  for (const [span, max] of [[1, 65_535], [1, 55_535], [40, 65_535]] as const) {
    for (let i = 0; i < 20_000; i++) {
      const first = randomPortOutsideEphemeral(span, max);
      const last = first + span - 1;
      assert.ok(first >= 20_000 && last <= max, `${first}..${last} within 20000..${max}`);
      assert.ok(last < low || first > high, `${first}..${last} outside the ephemeral range ${low}-${high}`);
    }
  }
});

test('freePorts gives distinct ports', async () => {
  const ports = await freePorts(6);
  assert.equal(new Set(ports).size, 6);
});

test('a drawn port is claimed for this process: a file holding its pid, and no second claim', async () => {
  const ports = await freePorts(3);
  for (const port of ports) assert.equal(readFileSync(claimFile(port), 'utf8'), String(process.pid));
  assert.equal(claimPorts([ports[0]!]), false, 'a port this process holds is not handed out again');
});

test('a port another live process claimed is refused; its claims go when it exits, and a dead process\'s claim is taken over', async () => {
  const [port] = await freePorts(1);
  // Ports next to one this process drew: nobody else drew them (freePorts draws at random).
  const probe = port! + 1;
  const holder = await claimingChild(probe);
  assert.equal(holder.answer, 'claimed');
  assert.equal(claimPorts([probe]), false, 'held by a live process');
  const other = port! + 2;
  assert.equal(claimPorts([other, probe]), false, 'all or none');
  assert.equal(existsSync(claimFile(other)), false, 'the claim of the port before the refused one was withdrawn');
  holder.child.stdin!.end();
  await once(holder.child, 'exit');
  assert.equal(existsSync(claimFile(probe)), false, 'released when its process exited');
  const killed = await claimingChild(probe);
  assert.equal(killed.answer, 'claimed');
  killed.child.kill('SIGKILL');
  await once(killed.child, 'exit');
  assert.ok(existsSync(claimFile(probe)), 'a killed process leaves its claim behind');
  assert.equal(claimPorts([probe]), true, 'and the next claimer takes it over');
});

test('claims that are withdrawn and made again add one exit hook to the process, not one each time', async () => {
  const [held] = await freePorts(1);
  const module = new URL('../../src/daemon/ports.ts', import.meta.url).href;
  // In a child, so the module starts with no claims: each claimPorts takes a port next to ours, is
  // refused ours (held by this live process) and withdraws its claim, leaving the child none.
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    const { claimPorts } = await import(${JSON.stringify(module)});
    const before = process.listenerCount('exit');
    for (let i = 1; i <= 12; i++) claimPorts([${held} + i, ${held}]);
    process.stdout.write(String(process.listenerCount('exit') - before) + '\\n');
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  await once(child, 'exit');
  assert.equal(Number(line.toString().trim()), 1, 'exit listeners the claims added');
});
