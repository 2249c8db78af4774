import t from 'tap'
import { existsSync } from 'node:fs'
import { runDeterminism } from './run.js'

// ORCH-3280 / OC-TEST-7001..7003 (spec adapters §6.3): byte-identical token streams across two
// replicas of one pool and across two runs for the whole seeds corpus, greedy and seeded; and
// across engine builds (embedded vs the source-built llama-server) for greedy decoding.
t.setTimeout(900_000)
const bin = process.env.LLAMA_SERVER_BIN
if (process.env.REQUIRE_REAL_LLAMA === '1' && !(bin && existsSync(bin))) {
  t.fail('REQUIRE_REAL_LLAMA=1 but LLAMA_SERVER_BIN names no llama-server: run `llama-orch provision --config examples/llamacpp-source.yaml`')
}

t.test('ORCH-3280: the determinism corpus is identical across replicas, runs and (greedy) engine builds', async (t) => {
  const source = bin && existsSync(bin) ? bin : undefined
  if (!source) t.comment('LLAMA_SERVER_BIN unset: the engine-build lane does not run (the replica and run lanes do)')
  const s = await runDeterminism(t, { llamaServerBin: source, engineCache: process.env.LLAMA_ORCH_ENGINE_CACHE })
  t.comment(`${s.streams} streams, ${s.identical}/${s.comparisons} comparisons identical in ${s.duration_ms} ms`)
  t.equal(s.invalid, null, 'the replicas pin the same engine version, digest, model digest and sampler profile')
  t.same(s.mismatches, [], 'no stream differs')
  t.ok(s.replicas.compared >= 80, `${s.replicas.compared} cases compared across replicas`)
  t.equal(s.replicas.identical, s.replicas.compared)
  t.equal(s.runs.identical, s.runs.compared)
  t.ok(s.cleanup.engine_pids.length >= 2, `${s.cleanup.engine_pids.length} engine processes ran`)
  t.same(s.cleanup.left_running, [], 'every engine process is gone after close')
  const { distinct, pairs } = s.seeds_distinct
  t.ok(s.seeds_distinct.share >= 0.9, `different seeds give different streams (${distinct}/${pairs}): the seeded claim is not greedy in disguise`)
  if (source) {
    t.ok(s.builds.greedy.compared >= 16)
    t.equal(s.builds.greedy.identical, s.builds.greedy.compared, 'greedy: embedded = source-built llama-server')
    t.comment(`seeded across builds (recorded, not claimed): ${s.builds.seeded.identical}/${s.builds.seeded.compared} identical`)
  }
})
