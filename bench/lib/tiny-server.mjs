// The quick-start server for benchmarks: the embedded llama.cpp engine on the generated tiny
// model, one pool `tiny`, narration at `info` into a discarding sink (its cost is counted, its
// output is not kept). Returns the server's base URL and its worker's, for direct baselines.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { request } from 'undici'
import { buildApp, parseManifest } from '../../dist/core/app.js'
import { createLogger } from '../../dist/plugins/narration/index.js'
import { writeTinyModel } from '../../dist/extensions/provider-embedded/tiny-file.js'

export async function startTinyServer ({ microBatchMs = 0, slots = 1 } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'orc-bench-'))
  await writeTinyModel(join(root, 'tiny.gguf'))
  const manifest = parseManifest({
    providers: ['embedded'],
    adapters: ['llamacpp'],
    catalog: { root, artifacts_store: 'memory' },
    sse: { micro_batch_ms: microBatchMs },
    pools: [{
      id: 'tiny',
      engine: 'llamacpp',
      model: 'tiny',
      devices: [],
      slots_total: slots,
      provisioning: { mode: 'embedded', compute_policy: 'cpu-only', model: { ref: 'tiny.gguf' } },
    }],
  }, 'bench manifest')
  const sink = new Writable({ write (_chunk, _enc, cb) { cb() } })
  const app = await buildApp(manifest, { logger: createLogger({ level: 'info', destination: sink }) })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  for (;;) {
    const r = await request(`${base}/readyz`)
    await r.body.dump()
    if (r.statusCode === 200) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const worker = new URL(app.pool.manager('tiny').current.replica.prepared.health.url).origin
  return { app, base, worker, close: () => app.close() }
}

/** The p-th percentile of xs (nearest rank). */
export const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))] }

/**
 * Reads an SSE body from request start `t0`: `token` matches token frames, `engineMs` (optional)
 * the engine's own decode time in its final frame. Returns TTFT, the token rate between the
 * first and last token, the token count, the tail after the last token (end frame, close) and
 * the end time. What follows the last token is a fixed cost per task, reported on its own.
 */
export async function readStream (body, token, t0, engineMs) {
  let first
  let last
  let n = 0
  let engine
  for await (const chunk of body) {
    const c = String(chunk)
    const k = (c.match(token) ?? []).length
    if (k > 0) { last = performance.now(); first ??= last }
    n += k
    const m = engineMs?.exec(c)
    if (m) engine = Number(m[1])
  }
  const end = performance.now()
  return { ttft: first - t0, rate: (n - 1) / ((last - first) / 1000), tokens: n, tail: end - last, end, engineMs: engine }
}
