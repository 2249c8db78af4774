// Cost of the adapter layer on the token path (issue 4): a fake llama-server in a child
// process streams tokens as fast as it can; this process consumes them three ways, in one run:
//   baseline   — undici request + the SSE decoder + JSON.parse of each frame (the bare parse)
//   floor      — the bare parse + one event object and one resolved promise per token (the contract's floor)
//   adapter    — the llamacpp adapter's submit() event stream (started → token* → end)
//   host       — the same through app.adapterHost (replica choice, in-flight table, narration)
// Prints tokens/s and CPU-seconds per 1M tokens (this process only: the server's CPU is its own).
// Usage: npm run bench:adapters -- [tokens_per_stream=100000] [rounds=5]
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { SseDecoder } from '../dist/lib/http-client/decode.js'
import { standaloneAdapter } from '../dist/lib/adapter-kit/plugin.js'
import { LlamacppOptions, llamacppProtocol } from '../dist/extensions/adapter-llamacpp/llamacpp.js'
import { createAdapterHost } from '../dist/plugins/adapters/host.js'

const TOKENS = Number(process.argv[2] ?? 100_000)
const ROUNDS = Number(process.argv[3] ?? 5)

if (process.argv[2] === '--serve') {
  // the fake llama-server: frames as the real one writes them, 64 frames per write
  const { createServer } = await import('node:http')
  const server = createServer((req, res) => {
    if (req.url === '/props') {
      res.writeHead(200, { 'content-type': 'application/json' })
        .end('{"build_info":"b-bench","total_slots":1,"default_generation_settings":{"n_ctx":2048}}')
      return
    }
    if (req.url === '/health') { res.writeHead(200).end('{"status":"ok"}'); return }
    let body = ''
    req.on('data', (c) => { body += c })
    req.on('end', () => {
      const n = JSON.parse(body).n_predict
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      let i = 0
      const pump = () => {
        while (i < n) {
          let chunk = ''
          for (let k = 0; k < 64 && i < n; k++, i++) {
            chunk += `data: {"index":0,"content":"tok${i % 10} ","tokens":[${i}],"stop":false,"id_slot":-1,` +
              `"tokens_predicted":${i + 1},"tokens_evaluated":3}\n\n`
          }
          if (!res.write(chunk)) { res.once('drain', pump); return }
        }
        res.end(
          `data: {"index":0,"content":"","id_slot":0,"stop":true,"stop_type":"limit","tokens_predicted":${n},"tokens_evaluated":3,` +
          `"timings":{"prompt_n":3,"prompt_ms":1,"predicted_n":${n},"predicted_ms":1}}\n\n`
        )
      }
      pump()
    })
  })
  server.listen(0, '127.0.0.1', () => process.send(server.address().port))
} else {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const port = await new Promise((resolve) => child.once('message', resolve))
  const url = `http://127.0.0.1:${port}`
  const pool = { id: 'p0', engine: 'llamacpp', model: 'bench', devices: [], provisioning: {}, timeouts: null }
  const binding = { poolId: 'p0', replicaId: 'r0', baseUrl: url, pool }
  const { adapter, client } = standaloneAdapter(LlamacppOptions, llamacppProtocol, binding, {})
  const host = createAdapterHost()
  await host.bind('p0', 'r0', adapter)
  const agent = new Agent({ connections: 1 })
  let n = 0
  const task = () => ({
    task_id: `b${n++}`,
    session_id: 's',
    workload: 'completion',
    model_ref: 'bench',
    engine: 'llamacpp',
    ctx: 0,
    priority: 'batch',
    prompt: 'go',
    max_tokens: TOKENS,
    deadline_ms: 600_000,
  })
  const opts = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 600_000, poolId: 'p0', replicaId: 'r0' })

  const variants = {
    async baseline () {
      const res = await request(`${url}/completion`, {
        dispatcher: agent,
        method: 'POST',
        body: JSON.stringify({ prompt: 'go', n_predict: TOKENS, stream: true }),
        headers: { 'content-type': 'application/json' },
      })
      let tokens = 0
      const d = new SseDecoder((data) => { const v = JSON.parse(data); if (v.content) tokens++ })
      for await (const chunk of res.body) d.push(chunk)
      d.end()
      return tokens
    },
    // the floor any AsyncIterable<TokenEvent> adapter pays: the bare parse plus one event object
    // and one resolved promise per token, through a minimal hand-written iterator
    async floor () {
      const res = await request(`${url}/completion`, {
        dispatcher: agent,
        method: 'POST',
        body: JSON.stringify({ prompt: 'go', n_predict: TOKENS, stream: true }),
        headers: { 'content-type': 'application/json' },
      })
      const body = res.body[Symbol.asyncIterator]()
      const q = []
      let qi = 0
      let i = 0
      let ended = false
      const d = new SseDecoder((data) => { const v = JSON.parse(data); if (v.content) q.push({ kind: 'token', data: { t: v.content, i: i++ } }) })
      const it = {
        next () {
          if (qi < q.length) return Promise.resolve({ value: q[qi++], done: false })
          q.length = 0; qi = 0
          if (ended) return Promise.resolve({ value: undefined, done: true })
          return body.next().then((r) => { if (r.done) { ended = true; d.end() } else d.push(r.value); return it.next() })
        },
        [Symbol.asyncIterator] () { return it },
      }
      let tokens = 0
      for await (const e of it) if (e.kind === 'token') tokens++
      return tokens
    },
    async adapter () {
      let tokens = 0
      for await (const e of adapter.submit(task(), opts())) if (e.kind === 'token') tokens++
      return tokens
    },
    async host () {
      let tokens = 0
      const events = host.submit('p0', task(), { signal: new AbortController().signal, deadlineAt: Date.now() + 600_000 })
      for await (const e of events) if (e.kind === 'token') tokens++
      return tokens
    },
  }
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  for (const f of Object.values(variants)) await f() // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, f] of Object.entries(variants)) {
      const cpu0 = process.cpuUsage()
      const t0 = process.hrtime.bigint()
      const tokens = await f()
      const wall = Number(process.hrtime.bigint() - t0) / 1e9
      const cpu = process.cpuUsage(cpu0)
      if (tokens !== TOKENS) throw new Error(`${name}: ${tokens} tokens, expected ${TOKENS}`)
      samples[name].push({ tps: tokens / wall, cpuPerM: ((cpu.user + cpu.system) / 1e6) / tokens * 1e6 })
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const out = {}
  for (const [name, xs] of Object.entries(samples)) {
    out[name] = { tps: median(xs.map((x) => x.tps)), cpu: median(xs.map((x) => x.cpuPerM)) }
    console.log(`${name.padEnd(10)} ${Math.round(out[name].tps).toString().padStart(9)} tokens/s   ${out[name].cpu.toFixed(2).padStart(6)} CPU-s per 1M tokens`)
  }
  const over = (k) => ((out[k].cpu / out.baseline.cpu - 1) * 100).toFixed(1)
  console.log(`\nadapter layer: ${over('adapter')}% CPU per token over the bare parse (target ≤ 10%); with the host: ${over('host')}%`)
  console.log(`floor of the AsyncIterable<TokenEvent> contract (event object + one promise per token): ${over('floor')}%`)
  console.log(`node ${process.version}, ${TOKENS} tokens per stream, median of ${ROUNDS} rounds`)
  await host.unbind('p0', 'r0')
  await client.close()
  await agent.close()
  child.kill()
}
