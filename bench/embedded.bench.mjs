// The embedded engine worker against node-llama-cpp called in-process, in one run: the same
// tasks (greedy, 64 tokens on the generated tiny model, one thread) streamed over the
// worker's llama-server `/completion` SSE, then generated in-process. Reports time to first
// token p50/p99 and tokens/s, and the ratios worker/in-process (the cost of the process hop,
// HTTP and SSE framing). Sequential, so the two never compete for the cores.
// Usage: npm run bench:embedded -- [tasks=100] [tokens=64]
// The orchestrator's own overhead on top of the worker: bench/orchestrator.bench.mjs.
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { getLlama, LlamaCompletion, LlamaLogLevel } from 'node-llama-cpp'
import { writeTinyModel } from '../dist/extensions/provider-embedded/tiny-file.js'
import { WORKER_ENTRY } from '../dist/extensions/provider-embedded/provisioner.js'

const TASKS = Number(process.argv[2] ?? 100)
const TOKENS = Number(process.argv[3] ?? 64)
const PROMPT = 'The quick brown fox'
const WARMUP = 5

const model = join(await mkdtemp(join(tmpdir(), 'orc-bench-')), 'tiny.gguf')
await writeTinyModel(model)

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))] }
const median = (xs) => pct(xs, 50)

async function overHttp () {
  const proc = spawn(
    process.execPath,
    [WORKER_ENTRY, '--model', model, '--port', '0', '--threads', '1', '--exit-on-stdin-close'],
    { stdio: ['pipe', 'pipe', 'inherit'] }
  )
  let out = ''
  proc.stdout.on('data', (d) => { out += d })
  while (!/"event":"ready"/.test(out)) await new Promise((resolve) => setTimeout(resolve, 20))
  const base = `http://127.0.0.1:${/"port":(\d+)/.exec(out)[1]}`
  const ttft = []
  const rate = []
  for (let i = 0; i < TASKS + WARMUP; i++) {
    const t0 = performance.now()
    const res = await request(`${base}/completion`, {
      method: 'POST',
      body: JSON.stringify({ prompt: PROMPT, n_predict: TOKENS, temperature: 0, stream: true, cache_prompt: false }),
    })
    let first
    let n = 0
    for await (const chunk of res.body) {
      const c = String(chunk)
      const k = (c.match(/"stop":false/g) ?? []).length
      if (k > 0) first ??= performance.now()
      n += k
    }
    const end = performance.now()
    if (i < WARMUP) continue
    ttft.push(first - t0)
    rate.push((n - 1) / ((end - first) / 1000))
  }
  proc.kill('SIGTERM')
  return { ttft, rate }
}

async function inProcess () {
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
  const m = await llama.loadModel({ modelPath: model })
  const ctx = await m.createContext({ contextSize: 2048, threads: 1 })
  const completion = new LlamaCompletion({ contextSequence: ctx.getSequence() })
  const ttft = []
  const rate = []
  for (let i = 0; i < TASKS + WARMUP; i++) {
    const t0 = performance.now()
    let first
    let n = 0
    await completion.generateCompletion(PROMPT, { maxTokens: TOKENS, temperature: 0, onToken: (t) => { first ??= performance.now(); n += t.length } })
    const end = performance.now()
    if (i < WARMUP) continue
    ttft.push(first - t0)
    rate.push((n - 1) / ((end - first) / 1000))
  }
  await llama.dispose()
  return { ttft, rate }
}

const worker = await overHttp()
const direct = await inProcess()
const row = (label, r) => console.log(
  `${label.padEnd(34)} TTFT p50 ${median(r.ttft).toFixed(2).padStart(6)} ms  p99 ${pct(r.ttft, 99).toFixed(2).padStart(6)} ms  ` +
  `${Math.round(median(r.rate)).toString().padStart(6)} tok/s (median)`
)
row('node-llama-cpp in-process (base)', direct)
row('embedded worker, /completion SSE', worker)
console.log(
  `\nworker − in-process: TTFT p50 +${(median(worker.ttft) - median(direct.ttft)).toFixed(2)} ms, ` +
  `p99 +${(pct(worker.ttft, 99) - pct(direct.ttft, 99)).toFixed(2)} ms`
)
console.log(
  `ratio worker/in-process: TTFT p50 ${(median(worker.ttft) / median(direct.ttft)).toFixed(2)}, ` +
  `tokens/s ${(median(worker.rate) / median(direct.rate)).toFixed(3)}`
)
console.log(`node ${process.version}, ${TASKS} tasks × ${TOKENS} tokens, threads 1, prompt ${JSON.stringify(PROMPT)}`)
