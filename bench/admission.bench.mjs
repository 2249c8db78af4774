// Admission latency: POST /v1/tasks (schema, session, guardrails, placement, enqueue, 202) at 1 and
// 50 concurrent clients over 127.0.0.1, against a bare Fastify route in the same server that
// parses the same body and answers a 202 (the baseline), measured in the same run.
// The server (the whole app, logging at info to a null sink, one Ready pool with 64 slots and an
// in-process adapter that ends each task at once) runs in a child process; undici clients here.
// Every finished task stores its trace artifact (fsynced files under the catalog root) unless the
// third argument is `no-trace`, which shows what that durability costs the server.
// Usage: npm run build && node bench/admission.bench.mjs [requests-per-client-at-1=2000] [rounds=3] [no-trace]
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'

if (process.argv[2] === 'server') {
  const { buildApp, parseManifest } = await import('../dist/core/app.js')
  const fp = (await import('fastify-plugin')).default
  const { Type } = await import('typebox')
  const adapter = {
    engine: 'llamacpp',
    async health () { return { live: true, ready: true } },
    async props () { return { slots_total: 64, slots_free: 64 } },
    async engineVersion () { return 'bench-1' },
    async cancel () {},
    async close () {},
    async * submit (req, o) {
      yield { kind: 'started', data: { engine: 'llamacpp', engine_version: 'bench-1', pool_id: o.poolId, replica_id: o.replicaId } }
      yield { kind: 'token', data: { t: 'ok', i: 0 } }
      yield { kind: 'end', data: { tokens_out: 1, decode_time_ms: 0, stop_reason: 'length' } }
    },
  }
  const ext = {
    extension: { kind: 'adapter', apiVersion: 1, engines: ['llamacpp'], optionsSchema: Type.Object({}) },
    default: fp(async (app) => { app.adapters.add({ engine: 'llamacpp', create: () => adapter }) }, { name: 'bench-adapter', dependencies: ['orc.adapters'] }),
  }
  const artifacts = mkdtempSync(join(tmpdir(), 'orc-bench-artifacts-'))
  const manifest = parseManifest({
    adapters: ['bench'],
    sessions: { max_turns: 1_000_000 },
    tasks: { trace_artifacts: process.argv[3] !== 'no-trace' },
    // the traces land in a temp folder, not the user's ~/.cache/llama-orch/artifacts
    catalog: { artifacts_root: artifacts },
    pools: [{
      id: 'pool0',
      engine: 'llamacpp',
      model: 'model0',
      ctx: 32768,
      slots_total: 64,
      devices: [],
      preload: false,
      provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1] },
      queue: { capacity: 100_000 },
    }],
  }, 'bench')
  const app = await buildApp(manifest, {
    builtins: { adapter: { bench: async () => ext }, provisioner: {} },
    logDestination: new Writable({ write (_c, _e, cb) { cb() } }),
  })
  app.post('/bench/baseline', async (req, reply) => reply.code(202).send({
    task_id: req.body.task_id,
    queue_position: 0,
    predicted_start_ms: 0,
    backoff_ms: 0,
  }))
  await app.ready()
  app.pool.registry.upsert('pool0', { state: 'Ready', health: { live: true, ready: true }, slots_total: 64 })
  await app.adapterHost.bind('pool0', 'r0', adapter)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  process.send({ address })
  process.on('message', (m) => { if (m === 'exit') { rmSync(artifacts, { recursive: true, force: true }); process.exit(0) } })
} else {
  const child = fork(fileURLToPath(import.meta.url), ['server', process.argv[4] ?? 'trace'], { stdio: 'inherit' })
  const { address } = await new Promise((resolve) => child.once('message', resolve))
  const perClient = Number(process.argv[2] ?? 2000)
  const rounds = Number(process.argv[3] ?? 3)
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 })
  const session = randomUUID()
  const body = () => JSON.stringify({
    task_id: randomUUID(),
    session_id: session,
    workload: 'completion',
    model_ref: 'model0',
    engine: 'llamacpp',
    ctx: 0,
    priority: 'interactive',
    max_tokens: 1,
    deadline_ms: 60_000,
    prompt: 'Hello',
  })

  const load = async (path, clients, each) => {
    const lat = []
    const worker = async () => {
      for (let i = 0; i < each; i++) {
        const payload = body()
        const t0 = process.hrtime.bigint()
        const res = await request(address + path, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: payload })
        await res.body.dump()
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6)
        if (res.statusCode !== 202) throw new Error(`${path}: ${res.statusCode}`)
      }
    }
    const t0 = process.hrtime.bigint()
    await Promise.all(Array.from({ length: clients }, worker))
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    lat.sort((a, b) => a - b)
    return { p50: lat[Math.floor(lat.length * 0.5)], p99: lat[Math.floor(lat.length * 0.99)], rps: lat.length / s }
  }

  await load('/v1/tasks', 10, 100) // warm-up
  await load('/bench/baseline', 10, 100)
  const cases = [['1 client', 1, perClient], ['50 clients', 50, Math.max(20, Math.round(perClient / 10))]]
  const out = {}
  for (let r = 0; r < rounds; r++) {
    for (const [label, clients, each] of cases) {
      const pair = r % 2 === 0 ? ['/bench/baseline', '/v1/tasks'] : ['/v1/tasks', '/bench/baseline']
      for (const path of pair) (out[`${label}|${path}`] ??= []).push(await load(path, clients, each))
    }
  }
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1] }
  console.log(
    `POST latency over 127.0.0.1, ${rounds} rounds (median of per-round p50/p99), ` +
    `trace artifacts ${process.argv[4] === 'no-trace' ? 'off' : 'on'}, node ${process.version}\n`
  )
  console.log('load'.padEnd(12) + 'route'.padEnd(18) + 'p50 ms'.padStart(9) + 'p99 ms'.padStart(9) + 'req/s'.padStart(9) + '  p50 / p99 vs baseline')
  for (const [label] of cases) {
    const base = out[`${label}|/bench/baseline`]
    for (const path of ['/bench/baseline', '/v1/tasks']) {
      const rs = out[`${label}|${path}`]
      const ratio = path === '/v1/tasks'
        ? `  ${(med(rs.map((x) => x.p50)) / med(base.map((x) => x.p50))).toFixed(2)} / ${(med(rs.map((x) => x.p99)) / med(base.map((x) => x.p99))).toFixed(2)}`
        : ''
      console.log(
        label.padEnd(12) + path.padEnd(18) +
        med(rs.map((x) => x.p50)).toFixed(3).padStart(9) + med(rs.map((x) => x.p99)).toFixed(3).padStart(9) +
        Math.round(med(rs.map((x) => x.rps))).toString().padStart(9) + ratio
      )
    }
  }
  child.send('exit')
  await agent.close()
}
