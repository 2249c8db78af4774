/**
 * A small GGUF v3 writer (little-endian, no dependencies): enough to write a llama.cpp model
 * from scratch. Layout (spec embedded-engine.md §2): magic `GGUF`, u32 version 3, u64 tensor
 * count, u64 KV count; the KV pairs; the tensor infos (name, dims with ne0 first, ggml type,
 * offset into the data section); zero padding to the alignment; then every tensor's bytes,
 * each padded to the alignment (the last one too: llama.cpp reads the padded size).
 */
import { ORC_ERR_EMBEDDED_GGUF_TENSOR } from './errors.js'

/** GGUF metadata value types. */
export const GgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const
export type ScalarType = Exclude<(typeof GgufType)[keyof typeof GgufType], 9>

/** ggml tensor types this writer can encode. */
export const GgmlType = { F32: 0, F16: 1 } as const
export type TensorType = (typeof GgmlType)[keyof typeof GgmlType]

export type Scalar = number | bigint | boolean | string
export type MetaValue =
  | { type: ScalarType, value: Scalar }
  | { type: 9, items: ScalarType, value: readonly Scalar[] }

export const meta = {
  u32: (value: number): MetaValue => ({ type: GgufType.UINT32, value }),
  f32: (value: number): MetaValue => ({ type: GgufType.FLOAT32, value }),
  bool: (value: boolean): MetaValue => ({ type: GgufType.BOOL, value }),
  str: (value: string): MetaValue => ({ type: GgufType.STRING, value }),
  strings: (value: readonly string[]): MetaValue => ({ type: GgufType.ARRAY, items: GgufType.STRING, value }),
  i32s: (value: readonly number[]): MetaValue => ({ type: GgufType.ARRAY, items: GgufType.INT32, value }),
}

export interface Tensor {
  name: string
  /** ggml order: dims[0] varies fastest. */
  dims: readonly number[]
  type: TensorType
  /** dims[0]-contiguous values; length = product of dims. */
  data: Float32Array
}

/** Appends little-endian values to a growing list of chunks. */
class Out {
  private readonly chunks: Buffer[] = []
  size = 0
  bytes (b: Buffer): void { this.chunks.push(b); this.size += b.length }
  private fixed (n: number, write: (b: Buffer) => void): void { const b = Buffer.alloc(n); write(b); this.bytes(b) }
  u8 (v: number): void { this.fixed(1, (b) => b.writeUInt8(v)) }
  i8 (v: number): void { this.fixed(1, (b) => b.writeInt8(v)) }
  u16 (v: number): void { this.fixed(2, (b) => b.writeUInt16LE(v)) }
  i16 (v: number): void { this.fixed(2, (b) => b.writeInt16LE(v)) }
  u32 (v: number): void { this.fixed(4, (b) => b.writeUInt32LE(v)) }
  i32 (v: number): void { this.fixed(4, (b) => b.writeInt32LE(v)) }
  u64 (v: number | bigint): void { this.fixed(8, (b) => b.writeBigUInt64LE(BigInt(v))) }
  i64 (v: number | bigint): void { this.fixed(8, (b) => b.writeBigInt64LE(BigInt(v))) }
  f32 (v: number): void { this.fixed(4, (b) => b.writeFloatLE(v)) }
  f64 (v: number): void { this.fixed(8, (b) => b.writeDoubleLE(v)) }
  str (s: string): void { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.bytes(b) }
  align (to: number): void { const r = this.size % to; if (r !== 0) this.bytes(Buffer.alloc(to - r)) }
  done (): Buffer { return Buffer.concat(this.chunks, this.size) }
}

function scalar (out: Out, type: ScalarType, v: Scalar): void {
  switch (type) {
    case GgufType.UINT8: out.u8(v as number); break
    case GgufType.INT8: out.i8(v as number); break
    case GgufType.UINT16: out.u16(v as number); break
    case GgufType.INT16: out.i16(v as number); break
    case GgufType.UINT32: out.u32(v as number); break
    case GgufType.INT32: out.i32(v as number); break
    case GgufType.FLOAT32: out.f32(v as number); break
    case GgufType.BOOL: out.u8(v === true ? 1 : 0); break
    case GgufType.STRING: out.str(v as string); break
    case GgufType.UINT64: out.u64(v as bigint); break
    case GgufType.INT64: out.i64(v as bigint); break
    case GgufType.FLOAT64: out.f64(v as number); break
  }
}

/** IEEE 754 binary32 → binary16 bits, rounding to nearest even (subnormals, overflow to Inf). */
export function toHalfBits (value: number): number {
  const word = new Uint32Array(new Float32Array([value]).buffer)[0]!
  const sign = (word >>> 16) & 0x8000
  const exp = (word >>> 23) & 0xff
  const frac = word & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (frac !== 0 ? 0x200 : 0)
  const e = exp - 112 // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00
  const roundShift = (mantissa: number, shift: number): number => {
    const kept = mantissa >>> shift
    const rest = mantissa & ((1 << shift) - 1)
    const half = 1 << (shift - 1)
    return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept
  }
  if (e <= 0) return e < -10 ? sign : sign | roundShift(frac | 0x800000, 14 - e)
  // a carry out of the mantissa correctly bumps the exponent (up to Inf)
  return sign | ((e << 10) + roundShift(frac, 13))
}

function tensorData (t: Tensor): Buffer {
  const n = t.dims.reduce((a, b) => a * b, 1)
  if (t.data.length !== n) throw new ORC_ERR_EMBEDDED_GGUF_TENSOR(t.name, t.data.length, t.dims.join(', '), n)
  const width = t.type === GgmlType.F32 ? 4 : 2
  const b = Buffer.alloc(n * width)
  // written value by value so the file is little-endian whatever the host is
  if (t.type === GgmlType.F32) for (let i = 0; i < n; i++) b.writeFloatLE(t.data[i]!, i * 4)
  else for (let i = 0; i < n; i++) b.writeUInt16LE(toHalfBits(t.data[i]!), i * 2)
  return b
}

/** Serialises metadata (in the given order) and tensors into one GGUF v3 file image. */
export function writeGguf (metadata: ReadonlyArray<readonly [string, MetaValue]>, tensors: readonly Tensor[], alignment = 32): Buffer {
  const out = new Out()
  out.bytes(Buffer.from('GGUF', 'latin1'))
  out.u32(3)
  out.u64(tensors.length)
  const kvs = alignment === 32 ? metadata : [...metadata, ['general.alignment', meta.u32(alignment)] as const]
  out.u64(kvs.length)
  for (const [key, v] of kvs) {
    out.str(key)
    out.u32(v.type)
    if (v.type === GgufType.ARRAY) {
      out.u32(v.items)
      out.u64(v.value.length)
      for (const item of v.value) scalar(out, v.items, item)
    } else {
      scalar(out, v.type, v.value)
    }
  }
  const blobs = tensors.map(tensorData)
  let offset = 0
  tensors.forEach((t, i) => {
    out.str(t.name)
    out.u32(t.dims.length)
    for (const d of t.dims) out.u64(d)
    out.u32(t.type)
    out.u64(offset)
    offset += Math.ceil(blobs[i]!.length / alignment) * alignment
  })
  out.align(alignment)
  for (const b of blobs) { out.bytes(b); out.align(alignment) }
  return out.done()
}
