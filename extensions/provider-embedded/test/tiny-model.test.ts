import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildTinyModel, byteSymbols } from '../tiny-model.js'
import { GgmlType, toHalfBits, writeGguf, meta } from '../gguf-writer.js'
import { cli } from '../../../test/helpers/cli.js'

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** Reads the fixed GGUF header and the keys, enough to check what the writer wrote. */
function header (b: Buffer): { magic: string, version: number, tensors: bigint, kvs: bigint, firstKey: string } {
  const keyLen = Number(b.readBigUInt64LE(24))
  return {
    magic: b.toString('latin1', 0, 4),
    version: b.readUInt32LE(4),
    tensors: b.readBigUInt64LE(8),
    kvs: b.readBigUInt64LE(16),
    firstKey: b.toString('utf8', 32, 32 + keyLen),
  }
}

t.test('the tiny successor model is byte-identical on every run, with a stable sha256 (decision 3)', async (t) => {
  const a = buildTinyModel()
  const b = buildTinyModel()
  t.equal(a.length, 480_512, 'F32, 2 layers, embedding 64, 283 tokens')
  t.ok(a.equals(b))
  t.equal(sha(a), 'e9b4b0d8ea881540821b89a830becfbd79245567d0341319b31336c409ec36e0')
  t.same(header(a), { magic: 'GGUF', version: 3, tensors: 21n, kvs: 24n, firstKey: 'general.architecture' })
  t.equal(a.length % 32, 0, 'the last tensor is padded to the alignment too')
})

t.test('options change the file: ctx in the metadata only, F16 matrices, the random mode', async (t) => {
  const ctx = buildTinyModel({ ctx: 256 })
  t.equal(ctx.length, 480_512)
  t.not(sha(ctx), sha(buildTinyModel()))
  t.equal(buildTinyModel({ f16: true }).length, 316_672)
  t.not(sha(buildTinyModel({ mode: 'random' })), sha(buildTinyModel()))
  t.throws(() => buildTinyModel({ ctx: 8 }), { message: 'tiny model: ctx must be an integer ≥ 16, got 8' })
})

t.test('GPT-2 byte symbols: printable bytes map to themselves, the rest to U+0100 onwards', async (t) => {
  const s = byteSymbols()
  t.equal(s.length, 256)
  t.equal(s[65], 'A')
  t.equal(s[32], 'Ġ')
  t.equal(s[10], 'Ċ')
  t.equal(new Set(s).size, 256)
})

t.test('F32 → F16 rounds to nearest even, with subnormals, overflow and NaN', async (t) => {
  const cases: Array<[number, number]> = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [1e9, 0x7c00],
    [Infinity, 0x7c00], [-Infinity, 0xfc00], [2 ** -24, 0x0001], [2 ** -26, 0x0000], [0.1, 0x2e66], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
  ]
  for (const [v, bits] of cases) t.equal(toHalfBits(v), bits, `${v}`)
  t.equal(toHalfBits(NaN) & 0x7e00, 0x7e00)
})

t.test('the writer checks tensor sizes and honours a custom alignment', async (t) => {
  t.throws(
    () => writeGguf([], [{ name: 'x', dims: [2, 2], type: GgmlType.F32, data: new Float32Array(3) }]),
    { message: 'gguf: tensor x has 3 values for dims [2, 2] (4)' }
  )
  const b = writeGguf([['general.architecture', meta.str('llama')]], [{ name: 'x', dims: [3], type: GgmlType.F16, data: new Float32Array([1, 2, 3]) }], 64)
  t.equal(header(b).kvs, 2n, 'general.alignment is added')
  t.equal(b.length % 64, 0)
  t.equal(b.readUInt16LE(b.length - 64), 0x3c00, 'the F16 data starts on the 64-byte boundary')
})

t.test('`llama-orch model tiny --out FILE [--ctx N]` writes the model and says where', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'orc-tiny-'))
  const out = join(dir, 'sub', 'tiny.gguf')
  const r = await cli('model', 'tiny', '--out', out)
  t.same(r, { code: 0, out: [`wrote ${out} (480512 bytes, sha256:e9b4b0d8ea881540821b89a830becfbd79245567d0341319b31336c409ec36e0)`], err: [] })
  t.equal(sha(await readFile(out)), 'e9b4b0d8ea881540821b89a830becfbd79245567d0341319b31336c409ec36e0')
  t.same(await cli('model', 'tiny', '--out', out, '--ctx', '256', '--if-missing'), { code: 0, out: [`${out} exists; kept as it is`], err: [] })
  const small = await cli('model', 'tiny', '--out', out, '--ctx', '256')
  t.equal(small.code, 0)
  t.equal((await cli('model', 'tiny')).code, 2)
  t.match((await cli('model', 'tiny', '--out', out, '--ctx', 'x')).err[0], 'llama-orch: --ctx must be an integer ≥ 16, got "x"')
})
