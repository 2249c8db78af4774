import t from 'tap'
import { decide, type JobSpec, type PoolSnapshot } from '../placement.js'
import { job, pool as basePool } from './snapshots.js'
import { refusalOf } from '../refusal.js'

/** Pools that sample with the default profile, as the placement stage's snapshots say. */
const pool = (id: string, extra: Partial<PoolSnapshot> = {}): PoolSnapshot => basePool(id, { samplerProfileVersion: 'v1', ...extra })

/** The refusal placement gives for these pools and this job. */
function refuse (pools: PoolSnapshot[], j: JobSpec = job) {
  const d = decide(pools, j)
  if (d.kind !== 'no_capacity') throw new Error('expected no_capacity')
  return refusalOf(pools, j, d.reasons)
}

t.test('issue 10 #10: what no configured pool could ever serve is not transient, and says each pool\'s reason', async (t) => {
  const none = refuse([pool('a', { modelId: 'm1' }), pool('b', { engine: 'vllm' })])
  t.match(none, { code: 'INVALID_PARAMS', transient: false })
  t.equal(none.message, '/model_ref: no pool serves model m0 on engine llamacpp ' +
    '(configured: a serves model m1 on engine llamacpp; b serves model m0 on engine vllm); pick a model a pool serves')
  t.notOk('poolId' in none)
  t.match(refuse([]), { code: 'INVALID_PARAMS', transient: false, message: /no pools are configured/ })
  const profile = refuse([pool('a'), pool('b', { modelId: 'm1' })], { ...job, samplerProfileVersion: 'v2' })
  t.match(profile, { code: 'INVALID_PARAMS', transient: false, poolId: 'a' })
  t.equal(profile.message,
    'no pool serving model m0 on engine llamacpp can ever take this task: a serves sampler profile v1, not v2; change the request')
  t.same(profile.reasons, { a: 'serves sampler profile v1, not v2', b: 'serves model m1' })
  t.match(refuse([pool('a', { vramTotalBytes: 8e9 })], { ...job, requirements: { minVramBytes: 16e9 } }),
    { transient: false, message: /a has 8000000000 bytes of VRAM in all, the task needs 16000000000/ })
  t.match(refuse([pool('a', { ctxMax: 1024 }), pool('b', { quantizations: ['q4'] })], { ...job, requirements: { quantization: 'q8' } }),
    { transient: false, message: /a has ctx_max 1024, the task needs 2048 tokens of context; b serves quantizations q4, not q8/ })
})

t.test('issue 10 #10: only what waiting can clear is transient, with §4.3.2\'s code (D18)', async (t) => {
  t.match(refuse([pool('a', { ready: false }), pool('b', { draining: true }), pool('c', { engine: 'tgi' })]),
    { code: 'POOL_UNREADY', transient: true, message: /can take this task now: a is not Ready yet \(preloading, reloading or restarting\); b is draining; retry later/ })
  t.match(refuse([pool('a', { live: false })]), { code: 'POOL_UNREADY', transient: true, poolId: 'a', message: /a is down or its heartbeat is stale/ })
  const short = refuse([pool('a', { vramFreeBytes: 1 }), pool('b', { vramFreeBytes: 2 })], { ...job, estKvBytes: 10 })
  t.match(short, { code: 'REPLICA_EXHAUSTED', transient: true })
  t.match(refuse([pool('a', { vramFreeBytes: 1 }), pool('b', { ready: false })], { ...job, estKvBytes: 10 }), { code: 'POOL_UNAVAILABLE', transient: true })
  const mixed = refuse([pool('a', { ctxMax: 1024 }), pool('b', { ready: false })])
  t.match(mixed, { code: 'POOL_UNREADY', transient: true }, 'one pool may come up: worth a retry')
  t.notMatch(mixed.message, /ctx_max/, 'the message names what the client waits for')
  t.same(Object.keys(mixed.reasons), ['a', 'b'], 'the narration keeps every pool\'s reason')
})
