// The OpenAI chat path's overhead on a real engine (issue 11): the same chat, in one run, sent
// straight to the embedded worker (POST /apply-template with the model's own template, then
// `/completion` SSE, which is what the llamacpp adapter does) and as a streamed
// POST /v1/chat/completions through the orchestrator (admission, queue, placement, adapter
// host, OpenAI chunks). The paths alternate round by round; each round runs 1 client, then
// `clients` concurrent ones (the pool has `slots` slots, so they queue: in the worker's FIFO
// on the direct path, in the admission queue through the orchestrator).
// Reports TTFT p50/p99 and tokens/s per stream (median), and aggregate tokens/s at `clients`.
// Targets: added TTFT p50 ≤ 1 ms at 1 client; tokens/s ≥ 0.98 of direct at 256 tokens.
// Usage: npm run bench:openai -- [rounds=20] [tokens=256] [clients=32] [slots=4]
import { request } from 'undici'
import { pct, readStream, startTinyServer } from './lib/tiny-server.mjs'

const ROUNDS = Number(process.argv[2] ?? 20)
const TOKENS = Number(process.argv[3] ?? 256)
const CLIENTS = Number(process.argv[4] ?? 32)
const SLOTS = Number(process.argv[5] ?? 4)
const WARMUP = 2
// the tiny model cycles a..z forever after 'a', so every answer runs to max_tokens
const MESSAGES = [{ role: 'system', content: 'Spell on.' }, { role: 'user', content: 'a' }]

const { base, worker, close } = await startTinyServer({ slots: SLOTS })
const json = { 'content-type': 'application/json' }

async function direct () {
  const t0 = performance.now()
  const rendered = await request(`${worker}/apply-template`, { method: 'POST', headers: json, body: JSON.stringify({ messages: MESSAGES }) })
  const { prompt } = await rendered.body.json()
  const res = await request(`${worker}/completion`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ prompt, n_predict: TOKENS, stream: true, seed: 1, temperature: 0, top_k: 1, top_p: 1, min_p: 0, stop: [] }),
  })
  return readStream(res.body, /"stop":false/g, t0)
}

async function chat () {
  const t0 = performance.now()
  const res = await request(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ model: 'tiny', messages: MESSAGES, max_tokens: TOKENS, seed: 1, stream: true }),
  })
  if (res.statusCode !== 200) throw new Error(`chat ${res.statusCode}: ${await res.body.text()}`)
  // token chunks carry "content":"…"; the opening chunk's content is empty, the closing one has none
  return readStream(res.body, /"content":"[^"]/g, t0)
}

/** `n` concurrent streams; their results and the aggregate tokens/s from the first request to the last byte. */
async function burst (fn, n) {
  const t0 = performance.now()
  const rs = await Promise.all(Array.from({ length: n }, () => fn()))
  const tokens = rs.reduce((s, r) => s + r.tokens, 0)
  return { rs, aggregate: tokens / ((Math.max(...rs.map((r) => r.end)) - t0) / 1000) }
}

const runs = { direct: { one: [], many: [], aggregate: [] }, chat: { one: [], many: [], aggregate: [] } }
const paths = [['direct', direct], ['chat', chat]]
for (let i = 0; i < ROUNDS + WARMUP; i++) {
  for (const [name, fn] of i % 2 === 0 ? paths : [...paths].reverse()) {
    const one = await fn()
    const many = await burst(fn, CLIENTS)
    if (i < WARMUP) continue
    runs[name].one.push(one)
    runs[name].many.push(...many.rs)
    runs[name].aggregate.push(many.aggregate)
  }
}
await close()

const of = (name, set, key) => runs[name][set].map((r) => r[key])
const fmt = (x) => x.toFixed(2).padStart(8)
for (const [label, set] of [['1 client', 'one'], [`${CLIENTS} clients`, 'many']]) {
  console.log(`\n${label} (${set === 'one' ? ROUNDS : ROUNDS * CLIENTS} streams per path, ${TOKENS} tokens each)`)
  for (const name of ['direct', 'chat']) {
    console.log(`  ${(name === 'direct' ? 'direct to the worker (base)' : 'POST /v1/chat/completions').padEnd(30)} ` +
      `TTFT p50 ${fmt(pct(of(name, set, 'ttft'), 50))} ms  p99 ${fmt(pct(of(name, set, 'ttft'), 99))} ms  ` +
      `${Math.round(pct(of(name, set, 'rate'), 50)).toString().padStart(6)} tok/s per stream (median)`)
  }
  const added = pct(of('chat', set, 'ttft'), 50) - pct(of('direct', set, 'ttft'), 50)
  const ratio = pct(of('chat', set, 'rate'), 50) / pct(of('direct', set, 'rate'), 50)
  console.log(`  added TTFT p50 ${added >= 0 ? '+' : ''}${added.toFixed(2)} ms${set === 'one' ? ' (target ≤ 1 ms)' : ''}, ` +
    `tokens/s per stream ratio ${ratio.toFixed(3)} (target ≥ 0.98)`)
}
const agg = (name) => pct(runs[name].aggregate, 50)
console.log(`\naggregate at ${CLIENTS} clients, median: direct ${Math.round(agg('direct'))} tok/s, chat ${Math.round(agg('chat'))} tok/s, ` +
  `ratio ${(agg('chat') / agg('direct')).toFixed(3)}`)
console.log(`node ${process.version}, ${ROUNDS} rounds, pool slots ${SLOTS}, embedded worker threads 1, messages ${JSON.stringify(MESSAGES)}`)
