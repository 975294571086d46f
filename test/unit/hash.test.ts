/**
 * Known answers of every hash in src/protocol/hash.ts, recorded from the implementations it
 * replaced (ring/hash.ts, store/hash.ts, the FNV-1a copies in sim/trace.ts and gossip/swim.ts).
 * Ring placement, sketches, filters and simulator digests depend on these exact values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestHex, fmix32, fnv1aBytes, fnv1aString, hashKey, hashPair, murmur3, murmur3String, rehash, unitHashBytes, unitHashString } from '../../src/protocol/hash.ts';

const STRINGS = ['', 'a', 'ab', 'abc', 'abcd', 'user:1000', 'user:1001', 'héllo wörld', '日本語キー', '😀 emoji', 'x'.repeat(300)];
const utf8 = (s: string) => new TextEncoder().encode(s);

test('MurmurHash3 x86_32 (the ring key hash) keeps its known answers', () => {
  assert.deepEqual(STRINGS.map((s) => murmur3String(s)), [0, 1009084850, 2613040991, 3017643002, 1139631978, 963485340, 2593701824, 2549609076, 3757955032, 2448033982, 3151173021]);
  assert.deepEqual(STRINGS.map((s) => murmur3String(s, 0x5eed0001)), [3652201487, 411836928, 3447449382, 3537715396, 4147570989, 824187407, 1846609664, 3743111794, 3579724762, 1051700409, 2703433253]);
  assert.deepEqual(STRINGS.map((s) => murmur3(utf8(s), 42)), [142593372, 3001393763, 3610054215, 1313807976, 3898664396, 2589206289, 751322188, 857211688, 1354095939, 2361204612, 944979758]);
  assert.deepEqual(STRINGS.map((s) => hashKey(utf8(s))), [0, 1009084850, 2613040991, 3017643002, 1139631978, 963485340, 2593701824, 2549609076, 3757955032, 2448033982, 3151173021]);
  assert.deepEqual(STRINGS.map((s) => hashKey(s)), [0, 1009084850, 2613040991, 3017643002, 1139631978, 963485340, 2593701824, 2549609076, 3757955032, 2448033982, 3151173021]);
  assert.deepEqual([[0, 0, 0], [1, 2, 3], [0xffffffff, 0x80000000, 0x1234567], [-1, 7, 99]].map(([a, b, c]) => hashPair(a!, b!, c!)), [1669671676, 3207455560, 933250423, 1713236693]);
  assert.deepEqual(STRINGS.slice(0, 5).map(digestHex), ['d9b02c0fe84ac679b51f9052591c7087', '188c22008ff1ecbb415cc7ee18ed846f', 'cd7be726687da2b6370a68a4f9b58406', 'd2dd40c4036660db048fa6eb67166def', 'f736e92dcf6770ecf34ff1e0ff5ce494']);
});

test('the store table hash keeps its known answers', () => {
  assert.deepEqual(STRINGS.map((s) => unitHashString(s)), [3954623016, 298494453, 2805206227, 1981051490, 3567508823, 1881110221, 789683078, 2110822049, 3367825427, 1639007032, 2568486787]);
  assert.deepEqual(STRINGS.map((s) => unitHashString(s, 7)), [415870660, 2090852287, 3510782317, 1068774711, 1715246803, 534229184, 958073650, 3884741595, 362462328, 906286334, 3029769481]);
  assert.deepEqual(STRINGS.map((s) => unitHashBytes(utf8(s))), [3954623016, 298494453, 2805206227, 1981051490, 3567508823, 1881110221, 789683078, 3176189395, 2433592010, 446098378, 2568486787]);
  assert.deepEqual([0, 1, 0xdeadbeef, -5].map(fmix32), [0, 1364076727, 233162409, 2474590542]);
  assert.deepEqual([0, 1, 0xdeadbeef, -5].map(rehash), [3218905903, 1831301141, 1961766215, 3565254036]);
});

test('FNV-1a keeps its known answers', () => {
  assert.deepEqual(STRINGS.map(fnv1aString), [2166136261, 3826002220, 1294271946, 440920331, 3459545533, 1350311305, 1333533686, 3551649478, 1676194239, 1903844278, 2533439733]);
  assert.deepEqual(STRINGS.map((s) => fnv1aBytes(utf8(s))), [2166136261, 3826002220, 1294271946, 440920331, 3459545533, 1350311305, 1333533686, 3558752674, 1737415629, 3731391814, 2533439733]);
});
