import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  keyIdOf,
  openBytes,
  parseAtRestKeys,
  readSealedFile,
  resealFile,
  sealBytes,
  SealedDataError,
  UNKEYED,
  writeSealedFile,
  type AtRestKeys,
} from '../../src/security/sealed-file.ts';

const keyA = parseAtRestKeys('11'.repeat(32), 'test');
const keyB = parseAtRestKeys(Buffer.alloc(32, 7).toString('base64'), 'test');
const plain = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31) & 0xff);

test('sealed bytes open to the same bytes, for empty, one-block and many-block inputs', () => {
  for (const n of [0, 1, 100, 256, 257, 1000]) {
    const sealed = sealBytes(plain(n), 'acl', keyA, 256);
    assert.deepEqual(openBytes(sealed, 'acl', keyA), plain(n));
    assert.ok(!Buffer.from(sealed).includes(Buffer.from(plain(n)).subarray(0, 64)) || n < 64, 'the plain bytes do not appear in the file');
  }
});

test('every flipped bit and every truncation is detected, never a wrong value', () => {
  const sealed = sealBytes(plain(600), 'acl', keyA, 256);
  for (let i = 0; i < sealed.length * 8; i += 7) {
    const bad = Uint8Array.from(sealed);
    bad[i >> 3]! ^= 1 << (i & 7);
    assert.throws(() => openBytes(bad, 'acl', keyA), SealedDataError, `bit ${i}`);
  }
  for (let n = 0; n < sealed.length; n++) assert.throws(() => openBytes(sealed.subarray(0, n), 'acl', keyA), SealedDataError, `cut at ${n}`);
});

test('random damage never opens to other bytes (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, xor) => {
      const sealed = sealBytes(bytes, 'keyring', keyA, 128);
      const bad = Uint8Array.from(sealed);
      bad[at % bad.length]! ^= xor;
      assert.throws(() => openBytes(bad, 'keyring', keyA), SealedDataError);
    }),
    { numRuns: 300 },
  );
});

test('a file sealed for another purpose, or moved blocks, do not open', () => {
  const sealed = sealBytes(plain(600), 'acl', keyA, 256);
  assert.throws(() => openBytes(sealed, 'keyring', keyA), /block 0 of the keyring file fails authentication/);
  // Swap blocks 0 and 1 (same size: 256 plain bytes each).
  const blockLength = 12 + 256 + 16;
  const head = 28;
  const swapped = Buffer.concat([
    Buffer.from(sealed.subarray(0, head)),
    Buffer.from(sealed.subarray(head + blockLength, head + 2 * blockLength)),
    Buffer.from(sealed.subarray(head, head + blockLength)),
    Buffer.from(sealed.subarray(head + 2 * blockLength)),
  ]);
  assert.throws(() => openBytes(swapped, 'acl', keyA), SealedDataError);
});

test('rotation: the primary seals, every installed key opens; a missing key is named in the error', () => {
  const both: AtRestKeys = { primary: keyB.primary, all: [keyB.primary, keyA.primary] };
  const old = sealBytes(plain(50), 'acl', keyA);
  assert.deepEqual(openBytes(old, 'acl', both), plain(50));
  const fresh = sealBytes(plain(50), 'acl', both);
  const idB = Buffer.from(keyIdOf(keyB.primary)).toString('hex');
  assert.throws(() => openBytes(fresh, 'acl', keyA), new RegExp(`sealed with key ${idB}, which is not among`));
  assert.throws(() => openBytes(old, 'acl', UNKEYED), SealedDataError);
});

test('files: written atomically, missing reads as null, reseal moves a file to the new primary key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-sealed-'));
  try {
    const path = join(dir, 'acl.sealed');
    assert.equal(readSealedFile(path, 'acl', keyA), null);
    writeSealedFile(path, plain(70_000), 'acl', keyA);
    assert.deepEqual(readSealedFile(path, 'acl', keyA), plain(70_000));
    const both: AtRestKeys = { primary: keyB.primary, all: [keyB.primary, keyA.primary] };
    assert.deepEqual(resealFile(path, 'acl', both), { plain: plain(70_000), resealedFrom: Buffer.from(keyIdOf(keyA.primary)).toString('hex') });
    assert.deepEqual(readSealedFile(path, 'acl', keyB), plain(70_000), 'after reseal the new key alone opens it');
    assert.deepEqual(resealFile(path, 'acl', both), { plain: plain(70_000), resealedFrom: null }, 'under the primary already: left as it is');
    assert.equal(resealFile(join(dir, 'missing.sealed'), 'acl', both), null);
    writeFileSync(path, readFileSync(path).subarray(0, 1000));
    assert.throws(() => readSealedFile(path, 'acl', keyB), new RegExp(`${path}: the acl file is 1000 bytes where its header promises`));
    assert.equal(existsSync(join(dir, `.acl.sealed.${process.pid}.tmp`)), false, 'no temporary file left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('key text: hex or base64, one per line or comma-separated, first is primary; anything else is a clear error', () => {
  const keys = parseAtRestKeys(`# rotated 2026-12\n${'22'.repeat(32)}\n${'11'.repeat(32)}\n`, 'keys.txt');
  assert.equal(keys.all.length, 2);
  assert.deepEqual(keys.primary, new Uint8Array(32).fill(0x22));
  assert.throws(() => parseAtRestKeys('', 'SHOAL_DATA_KEY'), /SHOAL_DATA_KEY holds no key/);
  assert.throws(() => parseAtRestKeys('abc', 'keys.txt'), /keys.txt: key 1 is not 32 bytes/);
  assert.throws(() => parseAtRestKeys('11'.repeat(31), 'keys.txt'), /key 1 is not 32 bytes/);
});
