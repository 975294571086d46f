// src/daemon/ports.ts: the ports tests and benchmarks draw for real daemons and servers stay out of
// the kernel's ephemeral range (where any outgoing connection may take them) and under a bound
// when one is given (a cluster-enabled redis-server needs its port + 10,000 for its bus).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { freePorts, randomPortOutsideEphemeral } from '../../src/daemon/ports.ts';

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
