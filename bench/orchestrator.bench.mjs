// Orchestrator overhead on a real engine (issue 5): the same tasks, in one run, sent directly
// to the embedded worker (llama-server `/completion` SSE, the body the llamacpp adapter sends)
// and through the orchestrator (POST /v1/tasks, then GET /v1/tasks/{id}/stream: admission,
// queue, placement, adapter host, SSE re-framing, narration at `info` into a discarding sink).
// The two paths alternate task by task on the same worker so drift hits both alike; tasks are
// sequential so they never compete for the cores. Reports TTFT p50/p99 (from the first
// request byte to the first token frame) and tokens/s, and the differences and ratios.
// Targets: ≤ 2 ms added TTFT p50, ≤ 2% tokens/s lost. A third path (issue 11) sends the same
// task as an OpenAI streamed completion (POST /v1/completions, one round trip); its target is
// ≤ 1 ms added TTFT p50 and tokens/s ≥ 0.98 of direct.
// Usage: npm run bench:orchestrator -- [tasks=100] [tokens=64] [sse micro_batch_ms=0]
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { pct, readStream, startTinyServer } from './lib/tiny-server.mjs'

const TASKS = Number(process.argv[2] ?? 100)
const TOKENS = Number(process.argv[3] ?? 64)
const MICRO_BATCH_MS = Number(process.argv[4] ?? 0)
const PROMPT = 'The quick brown fox'
const WARMUP = 5

const { app, base, worker } = await startTinyServer({ microBatchMs: MICRO_BATCH_MS })

async function direct () {
  const t0 = performance.now()
  const res = await request(`${worker}/completion`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: PROMPT, n_predict: TOKENS, stream: true, seed: 1, temperature: 0, top_k: 1, top_p: 1, min_p: 0, stop: [] }),
  })
  return readStream(res.body, /"stop":false/g, t0, /"predicted_ms":([0-9.]+)/)
}

async function orchestrated () {
  const task = {
    task_id: randomUUID(),
    session_id: randomUUID(),
    workload: 'completion',
    model_ref: 'tiny',
    engine: 'llamacpp',
    ctx: 0,
    priority: 'interactive',
    prompt: PROMPT,
    max_tokens: TOKENS,
    seed: 1,
    deadline_ms: 60_000,
  }
  const t0 = performance.now()
  const admitted = await request(`${base}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(task) })
  if (admitted.statusCode !== 202) throw new Error(`admission ${admitted.statusCode}: ${await admitted.body.text()}`)
  await admitted.body.dump()
  const res = await request(`${base}/v1/tasks/${task.task_id}/stream`)
  return readStream(res.body, /event: token/g, t0, /"engine_predicted_ms":([0-9.]+)/)
}

async function openai () {
  const t0 = performance.now()
  const res = await request(`${base}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', prompt: PROMPT, max_tokens: TOKENS, seed: 1, stream: true, temperature: 0 }),
  })
  if (res.statusCode !== 200) throw new Error(`openai ${res.statusCode}: ${await res.body.text()}`)
  // a token chunk has "finish_reason":null; the last chunk (finish_reason set) carries no text
  return readStream(res.body, /"finish_reason":null/g, t0)
}

const runs = { direct: [], orchestrated: [], openai: [] }
const paths = [['direct', direct], ['orchestrated', orchestrated], ['openai', openai]]
for (let i = 0; i < TASKS + WARMUP; i++) {
  // rotate the order each round so drift and warm caches hit every path alike
  const round = [...paths.slice(i % 3), ...paths.slice(0, i % 3)]
  for (const [name, fn] of round) {
    const cpu0 = process.cpuUsage()
    const r = await fn()
    const cpu = process.cpuUsage(cpu0)
    r.cpuPerToken = (cpu.user + cpu.system) / r.tokens
    if (i >= WARMUP) runs[name].push(r)
  }
}
await app.close()

const of = (name, key) => runs[name].map((r) => r[key])
const row = (label, name) => console.log(
  `${label.padEnd(36)} TTFT p50 ${pct(of(name, 'ttft'), 50).toFixed(2).padStart(6)} ms  p99 ${pct(of(name, 'ttft'), 99).toFixed(2).padStart(6)} ms  ` +
  `${Math.round(pct(of(name, 'rate'), 50)).toString().padStart(6)} tok/s (median)  ${pct(of(name, 'tokens'), 50)} tokens`
)
row('direct to the worker (base)', 'direct')
row('through the orchestrator', 'orchestrated')
row('OpenAI /v1/completions stream', 'openai')
console.log(
  `CPU of this process (client, plus the orchestrator on its path) per token, median: direct ${pct(of('direct', 'cpuPerToken'), 50).toFixed(1)} µs, ` +
  `orchestrator ${pct(of('orchestrated', 'cpuPerToken'), 50).toFixed(1)} µs`
)
console.log(
  `the engine's own decode time per task (its timings.predicted_ms), median: direct ${pct(of('direct', 'engineMs'), 50).toFixed(2)} ms, ` +
  `orchestrator ${pct(of('orchestrated', 'engineMs'), 50).toFixed(2)} ms`
)
console.log(
  `tail after the last token (end frame, stream close) p50: direct ${pct(of('direct', 'tail'), 50).toFixed(2)} ms, ` +
  `orchestrator ${pct(of('orchestrated', 'tail'), 50).toFixed(2)} ms`
)
const d = (p) => pct(of('orchestrated', 'ttft'), p) - pct(of('direct', 'ttft'), p)
const rateRatio = pct(of('orchestrated', 'rate'), 50) / pct(of('direct', 'rate'), 50)
console.log(`\nadded TTFT: p50 ${d(50) >= 0 ? '+' : ''}${d(50).toFixed(2)} ms, p99 ${d(99) >= 0 ? '+' : ''}${d(99).toFixed(2)} ms (target ≤ 2 ms at p50)`)
console.log(
  `ratio orchestrator/direct: TTFT p50 ${(pct(of('orchestrated', 'ttft'), 50) / pct(of('direct', 'ttft'), 50)).toFixed(2)}, ` +
  `p99 ${(pct(of('orchestrated', 'ttft'), 99) / pct(of('direct', 'ttft'), 99)).toFixed(2)}, ` +
  `tokens/s ${rateRatio.toFixed(3)} (${((1 - rateRatio) * 100).toFixed(1)}% lost; target ≤ 2%)`
)
const dOpenai = (p) => pct(of('openai', 'ttft'), p) - pct(of('direct', 'ttft'), p)
console.log(`OpenAI path: added TTFT p50 ${dOpenai(50) >= 0 ? '+' : ''}${dOpenai(50).toFixed(2)} ms (target ≤ 1 ms), ` +
  `tokens/s ratio ${(pct(of('openai', 'rate'), 50) / pct(of('direct', 'rate'), 50)).toFixed(3)} (target ≥ 0.98)`)
console.log(
  `node ${process.version}, ${TASKS} tasks per path × ${TOKENS} tokens max, sse.micro_batch_ms ${MICRO_BATCH_MS}, ` +
  `embedded worker threads 1, prompt ${JSON.stringify(PROMPT)}`
)
