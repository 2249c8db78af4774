/**
 * The deterministic "successor" test model (decision 3): a llama-architecture GGUF with 2
 * layers, embedding 64, 4 heads and 283 tokens (byte-level GPT-2 BPE: 256 byte tokens with
 * id == byte value, 24 merges, ChatML specials). All weights come from a seeded PRNG, and the
 * embedding and output matrices are arranged so that greedy decoding is predictable:
 *   'a'→'b'→…→'z'→' '→'a'   (an endless 27-cycle, never EOS)
 *   '0'→'1'→…→'9'→EOS        (so `Count: 3` → `456789`, then EOS)
 *   anything else → 'a'
 * Attention and FFN weights are small (σ 0.02): the whole graph runs, the argmax holds.
 * Same options → byte-identical file (only integer math and V8's fdlibm-based Math.log/cos).
 */
import { GgmlType, meta, writeGguf, type MetaValue, type Tensor } from './gguf-writer.js'
import { mulberry32 } from '../../lib/mulberry32.js'
import { ORC_ERR_EMBEDDED_TINY_CTX } from './errors.js'

export interface TinyModelOptions {
  /** `llama.context_length`; 2048 by default (256 breaks chat sessions, spec §6a). */
  ctx?: number
  /** F16 matrices (smaller file) instead of F32. */
  f16?: boolean
  seed?: number
  /** `random` makes every weight random: gibberish (often invalid UTF-8) output. */
  mode?: 'successor' | 'random'
}

export const TINY_MODEL_DEFAULT_CTX = 2048
const EMBD = 64
const LAYERS = 2
const HEADS = 4
const FF = 128

/** mulberry32 uniform in [0, 1) and a Box–Muller normal, both seeded. */
function prng (seed: number): { normal: () => number } {
  const uniform = mulberry32(seed)
  return {
    normal: () => {
      const u = Math.max(uniform(), 1e-12)
      const v = uniform()
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    },
  }
}

/** GPT-2's byte → printable-unicode table: token i is the byte i in this form. */
export function byteSymbols (): string[] {
  const printable = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)
  const table: string[] = []
  let extra = 0
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable(b) ? b : 256 + extra++)
  return table
}

const MERGES: ReadonlyArray<readonly [string, string]> = [
  [' ', 't'], ['h', 'e'], [' t', 'he'], ['i', 'n'], ['e', 'r'], ['o', 'n'], ['r', 'e'], ['a', 't'],
  ['e', 'n'], ['o', 'r'], ['e', 's'], ['a', 'n'], [' ', 'a'], [' ', 's'], [' ', 'w'], [' ', 'o'],
  [' ', 'i'], [' ', 'c'], [' ', 'b'], [' ', 'f'], ['l', 'l'], ['i', 's'], [' a', 'n'], [' an', 'd'],
]

const CHAT_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

interface Vocab { tokens: string[], types: number[], merges: string[], eos: number, imEnd: number }

function vocabulary (): Vocab {
  const sym = byteSymbols()
  const encode = (s: string): string => [...s].map((c) => sym[c.charCodeAt(0)]!).join('')
  const tokens = [...sym]
  const types = tokens.map(() => 1) // normal
  const merges: string[] = []
  for (const [l, r] of MERGES) {
    merges.push(`${encode(l)} ${encode(r)}`)
    tokens.push(encode(l + r)); types.push(1)
  }
  const eos = tokens.length
  for (const special of ['<|endoftext|>', '<|im_start|>', '<|im_end|>']) { tokens.push(special); types.push(3) } // control
  return { tokens, types, merges, eos, imEnd: eos + 2 }
}

/** token id → the token greedy decoding must produce after it (chain tokens only). */
function successors (eos: number): Map<number, number> {
  const next = new Map<number, number>()
  const cycle = 'abcdefghijklmnopqrstuvwxyz '
  for (let i = 0; i < cycle.length; i++) next.set(cycle.charCodeAt(i), cycle.charCodeAt((i + 1) % cycle.length))
  for (let d = 0; d < 9; d++) next.set(48 + d, 49 + d)
  next.set(57, eos) // '9' → EOS
  return next
}

/** Builds the model file image; pure and deterministic. */
export function buildTinyModel (o: TinyModelOptions = {}): Buffer {
  const ctx = o.ctx ?? TINY_MODEL_DEFAULT_CTX
  if (!Number.isInteger(ctx) || ctx < 16) throw new ORC_ERR_EMBEDDED_TINY_CTX(String(ctx))
  const mode = o.mode ?? 'successor'
  const rng = prng(o.seed ?? 42)
  const v = vocabulary()
  const nVocab = v.tokens.length
  const gauss = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * scale)

  let embeddings: Float32Array
  let output: Float32Array
  let blockScale = 0.02
  if (mode === 'random') {
    embeddings = gauss(nVocab * EMBD, 1)
    output = gauss(nVocab * EMBD, 0.3)
    blockScale = 0.3
  } else {
    // dim 1 flags "not a chain token", dims 2.. carry a random code per token; the output row
    // of each successor is the (scaled) code of its predecessor, so the logit argmax follows
    const OTHER = 1
    const CODE = 2
    const next = successors(v.eos)
    embeddings = new Float32Array(nVocab * EMBD)
    output = new Float32Array(nVocab * EMBD)
    for (let tok = 0; tok < nVocab; tok++) {
      const chain = next.has(tok)
      for (let d = CODE; d < EMBD; d++) embeddings[tok * EMBD + d] = rng.normal() * (chain ? 1 : 0.5)
      if (!chain) embeddings[tok * EMBD + OTHER] = 8
    }
    for (const [from, to] of next) {
      for (let d = CODE; d < EMBD; d++) output[to * EMBD + d]! += 0.1 * embeddings[from * EMBD + d]!
    }
    output[97 * EMBD + OTHER] = 0.8 // everything else → 'a'
  }

  const matrix = o.f16 === true ? GgmlType.F16 : GgmlType.F32
  const ones = (): Float32Array => new Float32Array(EMBD).fill(1)
  const tensors: Tensor[] = [{ name: 'token_embd.weight', dims: [EMBD, nVocab], type: GgmlType.F32, data: embeddings }]
  for (let l = 0; l < LAYERS; l++) {
    const w = (name: string, rows: number, cols: number): Tensor =>
      ({ name: `blk.${l}.${name}.weight`, dims: [rows, cols], type: matrix, data: gauss(rows * cols, blockScale) })
    tensors.push(
      { name: `blk.${l}.attn_norm.weight`, dims: [EMBD], type: GgmlType.F32, data: ones() },
      w('attn_q', EMBD, EMBD), w('attn_k', EMBD, EMBD), w('attn_v', EMBD, EMBD), w('attn_output', EMBD, EMBD),
      { name: `blk.${l}.ffn_norm.weight`, dims: [EMBD], type: GgmlType.F32, data: ones() },
      w('ffn_gate', EMBD, FF), w('ffn_up', EMBD, FF), w('ffn_down', FF, EMBD)
    )
  }
  tensors.push(
    { name: 'output_norm.weight', dims: [EMBD], type: GgmlType.F32, data: ones() },
    { name: 'output.weight', dims: [EMBD, nVocab], type: GgmlType.F32, data: output }
  )

  const metadata: Array<readonly [string, MetaValue]> = [
    ['general.architecture', meta.str('llama')],
    ['general.name', meta.str(`llama-orch-tiny-${mode}`)],
    ['general.file_type', meta.u32(o.f16 === true ? 1 : 0)],
    ['llama.vocab_size', meta.u32(nVocab)],
    ['llama.context_length', meta.u32(ctx)],
    ['llama.embedding_length', meta.u32(EMBD)],
    ['llama.block_count', meta.u32(LAYERS)],
    ['llama.feed_forward_length', meta.u32(FF)],
    ['llama.attention.head_count', meta.u32(HEADS)],
    ['llama.attention.head_count_kv', meta.u32(HEADS)],
    ['llama.rope.dimension_count', meta.u32(EMBD / HEADS)],
    ['llama.rope.freq_base', meta.f32(10000)],
    ['llama.attention.layer_norm_rms_epsilon', meta.f32(1e-5)],
    ['tokenizer.ggml.model', meta.str('gpt2')],
    ['tokenizer.ggml.pre', meta.str('gpt-2')],
    ['tokenizer.ggml.tokens', meta.strings(v.tokens)],
    ['tokenizer.ggml.token_type', meta.i32s(v.types)],
    ['tokenizer.ggml.merges', meta.strings(v.merges)],
    ['tokenizer.ggml.bos_token_id', meta.u32(v.eos)],
    ['tokenizer.ggml.eos_token_id', meta.u32(v.eos)],
    ['tokenizer.ggml.eot_token_id', meta.u32(v.imEnd)],
    ['tokenizer.ggml.padding_token_id', meta.u32(v.eos)],
    ['tokenizer.ggml.add_bos_token', meta.bool(false)],
    ['tokenizer.chat_template', meta.str(CHAT_TEMPLATE)],
  ]
  return writeGguf(metadata, tensors)
}
