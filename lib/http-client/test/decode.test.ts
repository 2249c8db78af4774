import t from 'tap'
import { MAX_LINE_BYTES, NdjsonDecoder, SseDecoder, ndjsonValues, sseEvents } from '../decode.js'
import { DecodeError } from '../errors.js'

// A recorded llama-server stream plus every dialect quirk the decoder must survive (spec §1.6):
// a 4-byte emoji, CRLF and bare CR line ends, a keep-alive comment, `id:`/`retry:`, `data:`
// without a space (TGI), multi-line data, llama.cpp's `error:` field, an `event:` name, and
// `[DONE]` with no trailing blank line.
const TRANSCRIPT = [
  ': keep-alive\n\n',
  'data: {"index":0,"content":"He","tokens":[1],"stop":false,"id_slot":-1,"tokens_predicted":1,"tokens_evaluated":3}\n\n',
  'data: {"index":0,"content":"llo 👋","stop":false,"id_slot":-1}\r\n\r\n',
  'id: 7\nretry: 100\ndata:{"content":"é"}\r\r',
  'event: response.output_text.delta\ndata: {"delta":"x"}\n\n',
  'data: line one\ndata: line two\n\n',
  'error: {"code":500,"message":"boom","type":"server_error"}\n\n',
  'data: [DONE]',
].join('')

const EXPECTED = [
  { event: 'message', data: '{"index":0,"content":"He","tokens":[1],"stop":false,"id_slot":-1,"tokens_predicted":1,"tokens_evaluated":3}' },
  { event: 'message', data: '{"index":0,"content":"llo 👋","stop":false,"id_slot":-1}' },
  { event: 'message', data: '{"content":"é"}' },
  { event: 'response.output_text.delta', data: '{"delta":"x"}' },
  { event: 'message', data: 'line one\nline two' },
  { event: 'error', data: '{"code":500,"message":"boom","type":"server_error"}' },
  { event: 'message', data: '[DONE]' },
]

function decodeChunks (chunks: Uint8Array[]): Array<{ event: string, data: string }> {
  const out: Array<{ event: string, data: string }> = []
  const d = new SseDecoder((data, event) => { out.push({ event, data }) })
  for (const c of chunks) d.push(c)
  d.end()
  return out
}

t.test('SSE: the unsplit transcript decodes to the expected events (spec §1.6)', async (t) => {
  t.same(decodeChunks([Buffer.from(TRANSCRIPT)]), EXPECTED)
})

t.test('SSE: a chunk boundary at every byte position gives the same events (scenario 2)', async (t) => {
  const bytes = Buffer.from(TRANSCRIPT)
  let ok = 0
  for (let i = 0; i <= bytes.length; i++) {
    const got = decodeChunks([bytes.subarray(0, i), bytes.subarray(i)])
    if (JSON.stringify(got) === JSON.stringify(EXPECTED)) ok++
    else t.fail(`split at byte ${i} differs`, { got })
  }
  t.equal(ok, bytes.length + 1)
})

t.test('SSE: single-byte chunks (the emoji split over four pushes) and three-way splits', async (t) => {
  const bytes = Buffer.from(TRANSCRIPT)
  t.same(decodeChunks([...bytes].map((b) => Uint8Array.of(b))), EXPECTED)
  let ok = 0
  for (let i = 0; i < bytes.length; i += 7) {
    for (let j = i; j <= bytes.length; j += 11) {
      if (JSON.stringify(decodeChunks([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)])) === JSON.stringify(EXPECTED)) ok++
      else t.fail(`split at ${i},${j} differs`)
    }
  }
  t.ok(ok > 100)
})

t.test('SSE: an event name without data dispatches nothing; empty chunks are ignored; a final line without a line end counts', async (t) => {
  t.same(decodeChunks([Buffer.from('event: ping\n\ndata: a'), new Uint8Array(0)]), [{ event: 'message', data: 'a' }])
  t.same(decodeChunks([Buffer.from('data\n\n')]), [{ event: 'message', data: '' }], 'a field with no colon has an empty value')
  t.same(decodeChunks([Buffer.from('foo: bar\ndata: x\n\n')]), [{ event: 'message', data: 'x' }], 'unknown fields are ignored')
})

t.test('SSE: a line over 1 MiB is an ADAPTER-class DecodeError, whether it arrives whole or in pieces', async (t) => {
  const d = new SseDecoder(() => {})
  const piece = Buffer.alloc(256 * 1024, 0x61)
  t.throws(() => { for (let i = 0; i < 5; i++) d.push(piece) }, DecodeError)
  t.throws(() => new SseDecoder(() => {}).push(Buffer.from(`data: ${'a'.repeat(MAX_LINE_BYTES + 1)}\n`)), { name: 'DecodeError', message: /longer than/ })
  // 400k three-byte characters: 1.2 MB in 400k UTF-16 units, counted in bytes
  t.throws(() => new SseDecoder(() => {}).push(Buffer.from(`data: ${'€'.repeat(400_000)}`)), /longer than 1048576 bytes/)
  const small = new SseDecoder(() => {}, { maxLineBytes: 64 })
  small.push(Buffer.from(`data: ${'€'.repeat(10)}\n`))
  t.throws(() => small.push(Buffer.from(`data: ${'€'.repeat(30)}\n`)), DecodeError)
  const fine: string[] = []
  const big = new SseDecoder((data) => { fine.push(data) })
  big.push(Buffer.from(`data: ${'€'.repeat(300_000)}\n\n`))
  t.equal(fine[0]?.length, 300_000, 'under the limit in bytes passes')
})

t.test('SSE: bytes that are not UTF-8 become U+FFFD instead of failing', async (t) => {
  t.same(decodeChunks([Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xff, 0x0a, 0x0a])]), [{ event: 'message', data: '\uFFFD' }])
  t.same(decodeChunks([Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xf0, 0x9f])]), [{ event: 'message', data: '\uFFFD' }], 'a cut-off character at EOF')
})

t.test('sseEvents iterates a body', async (t) => {
  async function * body (): AsyncGenerator<Uint8Array> {
    const bytes = Buffer.from(TRANSCRIPT)
    for (let i = 0; i < bytes.length; i += 5) yield bytes.subarray(i, i + 5)
  }
  const out = []
  for await (const e of sseEvents(body())) out.push(e)
  t.same(out, EXPECTED)
})

const NDJSON = '{"a":1}\n\n{"t":"👋"}\r\n  \r{"b":[1,2]}'

t.test('NDJSON: every byte position, blank lines skipped, last line without a newline', async (t) => {
  const bytes = Buffer.from(NDJSON)
  const expected = [{ a: 1 }, { t: '👋' }, { b: [1, 2] }]
  for (let i = 0; i <= bytes.length; i++) {
    const out: unknown[] = []
    const d = new NdjsonDecoder((v) => { out.push(v) })
    d.push(bytes.subarray(0, i))
    d.push(bytes.subarray(i))
    d.end()
    if (JSON.stringify(out) !== JSON.stringify(expected)) t.fail(`split at ${i}`, { out })
  }
  const all = []
  for await (const v of ndjsonValues((async function * () { yield bytes })())) all.push(v)
  t.same(all, expected)
})

t.test('NDJSON: a line that is not JSON throws DecodeError', async (t) => {
  const d = new NdjsonDecoder(() => {})
  t.throws(() => d.push(Buffer.from('{"a":1}\nnot json\n')), { name: 'DecodeError', message: /not JSON: not json/ })
})
