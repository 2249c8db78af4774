import t from 'tap'
import fc from 'fast-check'
import { canonicalJson } from '../../../lib/canonical.js'
import { capAtLeast, decide, incompatibility, type JobSpec, type PoolSnapshot } from '../placement.js'
import { job, pool } from './snapshots.js'

t.test('feasibility prefilter names the first failing requirement (ORCH-3411, §4.3.2)', async (t) => {
  const cases: Array<[Partial<PoolSnapshot>, Partial<JobSpec>, string | undefined]> = [
    [{}, {}, undefined],
    [{ engine: 'vllm' }, {}, 'ENGINE'],
    [{ modelId: 'other' }, {}, 'MODEL'],
    [{ ready: false }, {}, 'NOT_READY'],
    [{ live: false }, {}, 'NOT_READY'],
    [{ draining: true }, {}, 'DRAINING'],
    [{ ctxMax: 1024 }, {}, 'CTX'],
    [{ vramFreeBytes: 1 }, { estKvBytes: 2 }, 'VRAM'],
    [{}, { requirements: { minVramBytes: 32e9 } }, 'VRAM_TOTAL'],
    [{ computeCapability: '7.5' }, { requirements: { minComputeCap: '8.0' } }, 'COMPUTE_CAP'],
    [{ computeCapability: '8.6' }, { requirements: { minComputeCap: '8.0' } }, undefined],
    [{}, { requirements: { minComputeCap: '8.0' } }, 'COMPUTE_CAP'],
    [{ quantizations: ['q4'] }, { requirements: { quantization: 'q8' } }, 'QUANT'],
    [{}, { requirements: { quantization: 'q8' } }, 'QUANT'],
    [{ extensions: ['a'] }, { requirements: { requiredExtensions: ['a', 'b'] } }, 'EXTENSIONS'],
    [{ extensions: ['a', 'b'] }, { requirements: { requiredExtensions: ['a', 'b'] } }, undefined],
    [{ deviceMask: [0, 1] }, { allowedDeviceMask: [0] }, 'DEVICE_MASK'],
    [{ deviceMask: undefined }, { allowedDeviceMask: [0] }, 'DEVICE_MASK'],
    [{ deviceMask: [1] }, { allowedDeviceMask: [0, 1] }, undefined],
    [{ samplerProfileVersion: 'v1' }, { samplerProfileVersion: 'v2' }, 'SAMPLER_PROFILE'],
    [{ samplerProfileVersion: 'v2' }, { samplerProfileVersion: 'v2' }, undefined],
  ]
  for (const [p, j, want] of cases) t.equal(incompatibility(pool('p', p), { ...job, ...j }), want, `${JSON.stringify(p)} ${JSON.stringify(j)} → ${want}`)
})

t.test('compute capability compares numerically as major.minor', async (t) => {
  t.ok(capAtLeast('10.0', '8.6'))
  t.ok(capAtLeast('8.6', '8.6'))
  t.ok(capAtLeast('9', '8.9'))
  t.notOk(capAtLeast('8.10', '9.0'))
  t.notOk(capAtLeast('x', '8.0'))
  t.notOk(capAtLeast(undefined, '8.0'))
})

t.test('vram-least-loaded: affinity, then free VRAM, then active slots, queue, then pool id (ORCH-3012, §4.3.3)', async (t) => {
  const a = pool('a', { vramFreeBytes: 4e9 })
  const b = pool('b', { vramFreeBytes: 6e9 })
  t.same(decide([a, b], job), { kind: 'assigned', poolId: 'b', affinity: false }, 'most free VRAM first')
  t.same(decide([a, b], job, { affinity: { poolId: 'a' } }), { kind: 'assigned', poolId: 'a', affinity: true }, 'a valid affine pool wins')
  t.same(decide([a, b], job, { affinity: { poolId: 'gone' } }), { kind: 'assigned', poolId: 'b', affinity: false }, 'an absent affinity is ignored (soft)')
  const c = pool('c', { slotsFree: 1 })
  const d = pool('d', { slotsFree: 3 })
  t.equal((decide([c, d], job) as { poolId: string }).poolId, 'd', 'fewest active slots')
  t.equal((decide([pool('e', { queueLen: 3 }), pool('f', { queueLen: 1 })], job) as { poolId: string }).poolId, 'f', 'shortest queue')
  t.equal((decide([pool('z'), pool('y'), pool('x')], job) as { poolId: string }).poolId, 'x', 'ties by lexicographic pool id')
  t.same(decide([pool('r', { replicaId: 'r1' }), pool('r', { replicaId: 'r0' })], job),
    { kind: 'assigned', poolId: 'r', replicaId: 'r0', affinity: false }, 'then replica id')
  t.same(decide([pool('r', { replicaId: 'r1' }), pool('r', { replicaId: 'r0' })], job, { affinity: { poolId: 'r', replicaId: 'r1' } }),
    { kind: 'assigned', poolId: 'r', replicaId: 'r1', affinity: true }, 'affinity to a replica')
})

t.test('predicted-end (opt-in, ORCH-3404): earliest predicted end wins, ties fall through', async (t) => {
  const j = { ...job, expectedTokens: 100 }
  const fast = pool('fast', { perfTokensPerS: 100, firstTokenMs: 50, vramFreeBytes: 1e9 })
  const slow = pool('slow', { perfTokensPerS: 10, firstTokenMs: 10, vramFreeBytes: 9e9 })
  t.equal((decide([slow, fast], j, { policy: 'predicted-end' }) as { poolId: string }).poolId, 'fast')
  t.equal((decide([slow, fast], j) as { poolId: string }).poolId, 'slow', 'the default policy ignores speed')
  const unknown = pool('u', { vramFreeBytes: 9e9 })
  t.equal((decide([unknown, fast], j, { policy: 'predicted-end' }) as { poolId: string }).poolId, 'fast', 'unknown speed sorts last')
  const twins = [pool('b', { perfTokensPerS: 10 }), pool('a', { perfTokensPerS: 10 })]
  t.equal((decide(twins, j, { policy: 'predicted-end', affinity: { poolId: 'b' } }) as { poolId: string }).poolId, 'b', 'affinity breaks equal ends')
  t.equal((decide(twins, j, { policy: 'predicted-end' }) as { poolId: string }).poolId, 'a', 'then pool id')
  t.equal((decide(
    [pool('b', { perfTokensPerS: 10, slotsFree: 3 }), pool('a', { perfTokensPerS: 10, slotsFree: 2 })],
    j,
    { policy: 'predicted-end' }
  ) as { poolId: string }).poolId, 'b', 'then load')
  t.equal((decide(
    [pool('b', { perfTokensPerS: 10, vramFreeBytes: 9e9 }), pool('a', { perfTokensPerS: 10 })],
    j,
    { policy: 'predicted-end' }
  ) as { poolId: string }).poolId, 'b', 'then VRAM headroom')
  t.equal((decide(
    [pool('b', { perfTokensPerS: 20, firstTokenMs: 5000 }), pool('a', { perfTokensPerS: 10 })],
    { ...j, expectedTokens: 0 },
    { policy: 'predicted-end' }
  ) as { poolId: string }).poolId, 'a', 'first token time counts')
  t.equal((decide(
    [pool('b', { perfTokensPerS: 20 }), pool('a', { perfTokensPerS: 10 })],
    { ...j, expectedTokens: 0 },
    { policy: 'predicted-end' }
  ) as { poolId: string }).poolId, 'b', 'then the faster pool')
})

const arbPool = fc.record({
  id: fc.constantFrom('p0', 'p1', 'p2', 'p3', 'p4'),
  replicaId: fc.option(fc.constantFrom('r0', 'r1'), { nil: undefined }),
  engine: fc.constantFrom('llamacpp', 'vllm'),
  modelId: fc.constantFrom('m0', 'm1'),
  live: fc.boolean(),
  ready: fc.boolean(),
  draining: fc.boolean(),
  slotsTotal: fc.integer({ min: 1, max: 4 }),
  slotsFree: fc.integer({ min: 0, max: 4 }),
  vramTotalBytes: fc.constantFrom(8, 16),
  vramFreeBytes: fc.integer({ min: 0, max: 8 }),
  ctxMax: fc.constantFrom(1024, 4096),
  queueLen: fc.integer({ min: 0, max: 3 }),
  perfTokensPerS: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
}).map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as unknown as PoolSnapshot)
const arbJob = fc.record({
  engine: fc.constantFrom('llamacpp', 'vllm'),
  modelId: fc.constantFrom('m0', 'm1'),
  requiredCtx: fc.constantFrom(512, 2048),
  priority: fc.constantFrom('interactive' as const, 'batch' as const),
  expectedTokens: fc.integer({ min: 0, max: 100 }),
  estKvBytes: fc.integer({ min: 0, max: 4 }),
})

t.test('property: shuffling the pool input never changes the decision, under both policies (§5 L)', async (t) => {
  fc.assert(fc.property(fc.uniqueArray(arbPool, { maxLength: 8, selector: (p) => `${p.id}/${p.replicaId ?? ''}` }), arbJob,
    fc.constantFrom('vram-least-loaded' as const, 'predicted-end' as const), fc.option(fc.constantFrom('p0', 'p1'), { nil: undefined }), fc.nat(),
    (pools, j, policy, affine, seed) => {
      const opts = { policy, ...(affine ? { affinity: { poolId: affine } } : {}) }
      const base = decide(pools, j, opts)
      const shuffled = [...pools]
      let s = seed
      for (let i = shuffled.length - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) >>> 0
        const k = s % (i + 1)
        ;[shuffled[i], shuffled[k]] = [shuffled[k]!, shuffled[i]!]
      }
      const again = decide(shuffled, j, opts)
      if (canonicalJson(base) !== canonicalJson(again)) return false
      // the chosen pool is always feasible, and a refusal lists every pool
      if (base.kind === 'assigned') return pools.some((p) => p.id === base.poolId && incompatibility(p, j) === undefined)
      return pools.every((p) => incompatibility(p, j) !== undefined)
    }), { numRuns: 400 })
})

t.test('no_capacity keeps each pool\'s reason (§4.3.2)', async (t) => {
  const d = decide([pool('a', { ready: false }), pool('b', { engine: 'vllm' })], job)
  t.same(d, { kind: 'no_capacity', reasons: { a: 'NOT_READY', b: 'ENGINE' } })
})
