import t from 'tap'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compareStreams, distinctShare, pinMismatch, streamOf, tokenDiff } from './compare.js'
import { cases, readSeeds, SEEDS_FILE } from './corpus.js'

// A test of the determinism suite itself (issue 13 acceptance): a stream broken on purpose is
// caught, with its first differing token; timing fields are not compared; pin mismatches make
// the run invalid rather than "drifting".
const sse = (tokens: string[], o: { started?: Record<string, unknown>, decodeMs?: number, end?: boolean } = {}): string => [
  `event: started\ndata: ${JSON.stringify({ queue_position: 0, predicted_start_ms: 3, engine_version: 'b1', ...o.started })}\n\n`,
  ...tokens.map((x, i) => `event: token\ndata: ${JSON.stringify({ t: x, i })}\n\n`),
  `event: metrics\ndata: ${JSON.stringify({ decode_ms: o.decodeMs ?? 5 })}\n\n`,
  o.end === false ? '' : `event: end\ndata: ${JSON.stringify({ tokens_out: tokens.length, decode_time_ms: o.decodeMs ?? 5 })}\n\n`,
].join('')

t.test('timing fields differ, tokens do not: identical', async (t) => {
  const slow = sse(['4', '5', '6'], { decodeMs: 900, started: { predicted_start_ms: 77 } })
  const v = compareStreams(streamOf(sse(['4', '5', '6'], { decodeMs: 1 })), streamOf(slow))
  t.ok(v.identical, v.message)
})

t.test('one token changed on purpose: caught at its index, naming both frames', async (t) => {
  const a = streamOf(sse(['4', '5', '6', '7']))
  const b = streamOf(sse(['4', '5', 'X', '7']))
  const v = compareStreams(a, b, 'seed-1001 replica A vs B: ')
  t.notOk(v.identical)
  t.same(v.first_diff, { index: 2, a: 'token {"t":"6","i":2}', b: 'token {"t":"X","i":2}' })
  t.match(v.message, /^seed-1001 replica A vs B: first differing token at 2: token \{"t":"6","i":2\} ≠ token \{"t":"X","i":2\}$/)
  t.match(tokenDiff(a, b), /- token \{"t":"6","i":2\}\n\+ token \{"t":"X","i":2\}/)
  t.notOk(compareStreams(a, streamOf(sse(['4', '5', '6']))).identical, 'a shorter stream differs')
  t.notOk(compareStreams(a, streamOf(sse(['4', '5', '6', '7'], { end: false }))).identical, 'a stream without its end frame is no match')
})

t.test('a replica on another engine version makes the run invalid (pin mismatch), not a determinism result', async (t) => {
  t.equal(pinMismatch(streamOf(sse(['a'])), streamOf(sse(['a']))), null)
  t.equal(pinMismatch(streamOf(sse(['a'])), streamOf(sse(['a'], { started: { engine_version: 'b2' } }))), 'engine_version b1 ≠ b2')
})

t.test('distinct seeds: pairs counted per prompt group', async (t) => {
  const x = streamOf(sse(['a']))
  const y = streamOf(sse(['b']))
  t.same(distinctShare([[x, y, x]]), { pairs: 3, distinct: 2 })
})

t.test('the seeds corpus: pinned by SHA-256, at least 64 seeds; a changed file is refused', async (t) => {
  const seeds = readSeeds()
  t.equal(seeds.length, 64)
  t.same(seeds.slice(0, 2), [1001, 1002])
  t.equal(cases(seeds).length, 80)
  const dir = await mkdtemp(join(tmpdir(), 'orc-seeds-'))
  await writeFile(join(dir, 'seeds.txt'), '# 64 seeded prompts (integers)\n1001\n')
  t.throws(() => readSeeds(join(dir, 'seeds.txt')), /not the pinned/)
  t.throws(() => readSeeds(join(dir, 'seeds.txt'), '4d8ddbf04d4ce1a4de11d35b8cbd1cd1e7e5c2df7d4ad4b9f9c6b3a0b1ed9b1e'), /not the pinned/)
  t.ok(SEEDS_FILE.endsWith('seeds.txt'))
})
