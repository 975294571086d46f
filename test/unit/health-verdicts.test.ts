// Peer verdicts through member metadata (src/node/peer-verdicts.ts): the compact encoding, and a
// member degraded by a majority of its observers or by its own declaration.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Member } from '../../src/gossip/membership.ts';
import { decodeVerdicts, encodeVerdicts, memberHealth, MAX_PUBLISHED_VERDICTS, VERDICT_META } from '../../src/node/peer-verdicts.ts';

function member(name: string, meta: Record<string, string | number> = {}, state: Member['state'] = 'alive'): Member {
  return { name, address: name, zone: '', incarnation: 1, state, meta } as Member;
}

test('only demoted peers are published, sorted and bounded, and read back', () => {
  assert.equal(encodeVerdicts([{ name: 'n2', verdict: 'healthy' }]), '');
  const view = encodeVerdicts([
    { name: 'n3', verdict: 'slow' },
    { name: 'n2', verdict: 'erroring' },
    { name: 'n4', verdict: 'silent' },
  ]);
  assert.equal(view, 'n2:e,n3:s,n4:q');
  assert.deepEqual([...decodeVerdicts(view)], [['n2', 'e'], ['n3', 's'], ['n4', 'q']]);
  const many = Array.from({ length: 20 }, (_, i) => ({ name: `n${i}`, verdict: 'slow' as const }));
  assert.equal(encodeVerdicts(many).split(',').length, MAX_PUBLISHED_VERDICTS);
  assert.deepEqual([...decodeVerdicts('garbage,:x,n1:s')], [['n1', 's']], 'malformed entries are skipped');
  assert.equal(decodeVerdicts(42).size, 0);
});

test('a member is degraded when a majority of the other live members name it, or when it says so', () => {
  const members = [
    member('n1', { [VERDICT_META.view]: 'n3:s' }),
    member('n2', { [VERDICT_META.view]: 'n3:s' }),
    member('n3'),
    member('n4', { [VERDICT_META.view]: 'n1:e' }),
    member('n5', { [VERDICT_META.degraded]: 1 }),
    member('n6', { [VERDICT_META.view]: 'n3:s,n1:e' }, 'dead'),
  ];
  const byName = new Map(memberHealth(members).map((h) => [h.name, h]));
  assert.equal(byName.get('n3')!.state, 'healthy', '2 of 4 observers is no majority');
  assert.equal(byName.get('n3')!.score, 0.5);
  assert.equal(byName.get('n1')!.state, 'healthy', 'the view of a dead member does not count');
  assert.equal(byName.get('n5')!.state, 'degraded');
  assert.equal(byName.get('n5')!.score, 0);
  assert.equal(byName.has('n6'), false);
  members[3] = member('n4', { [VERDICT_META.view]: 'n1:e,n3:e' });
  const n3 = memberHealth(members).find((h) => h.name === 'n3')!;
  assert.equal(n3.state, 'degraded');
  assert.deepEqual(n3.reportedBy, [
    { observer: 'n1', verdict: 'slow' },
    { observer: 'n2', verdict: 'slow' },
    { observer: 'n4', verdict: 'erroring' },
  ]);
});
