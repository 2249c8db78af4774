// SSE emitter cost (PERF:ORCH-3400, spec perf-limits.md §3 method): the data plane's SseWriter
// in its three modes, fed from the same EventLog the server uses, over node:http on 127.0.0.1.
//   naive       one res.write per frame (the baseline)
//   buffered    the frames of one event-loop turn leave in one write (default)
//   micro-batch frames coalesce for up to 5 ms (sse.micro_batch_ms)
// Producers: `burst` appends 16 tokens per event-loop turn (an engine chunk with several deltas,
// or a fast engine); `paced` appends 1 token per turn (one upstream read per token).
// The server runs in a child process; its CPU comes from process.cpuUsage() around each run,
// the client (raw TCP, counting frames) runs here. Rounds rotate the order; ratios are taken
// inside a round against `naive` at the same shape, and the medians are printed.
// Usage: npm run build && node bench/sse.bench.mjs [rounds=3]
import { fork } from 'node:child_process'
import { createServer } from 'node:http'
import net from 'node:net'
import { fileURLToPath } from 'node:url'

const ROLE = process.argv[2]
const TOKENS = [' the', ' model', 'ing', ' of', ',', ' a', ' token', '\n', ' "q"', ' café', ' stream', '.', ' and', ' to', ' is', ' 42']

if (ROLE === 'server') {
  const { SseWriter } = await import('../dist/plugins/dataplane/sse.js')
  const { EventLog, frame, tokenFrame } = await import('../dist/plugins/dataplane/event-log.js')
  let mark = process.cpuUsage()
  const server = createServer((req, res) => {
    const u = new URL(req.url, 'http://x')
    const mode = u.searchParams.get('mode')
    const n = Number(u.searchParams.get('n'))
    const perTurn = Number(u.searchParams.get('batch'))
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
    const log = new EventLog(65_536)
    const w = new SseWriter(log, res, 0, { mode, microBatchMs: 5 })
    log.append((seq) => frame(seq, 'started', { queue_position: 0, predicted_start_ms: 0 }))
    w.notify()
    let i = 0
    const step = () => {
      for (let k = 0; k < perTurn && i < n; k++, i++) {
        const t = TOKENS[i & 15]
        const idx = i
        log.append((seq) => tokenFrame(seq, t, idx))
        w.notify()
      }
      if (i >= n) {
        log.append((seq) => frame(seq, 'end', { tokens_out: n, decode_time_ms: 0, decode_ms: 0 }), true)
        w.finish()
      } else if (res.writableNeedDrain) res.once('drain', () => setImmediate(step))
      else setImmediate(step)
    }
    setImmediate(step)
  })
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  process.on('message', (m) => {
    if (m === 'mark') { mark = process.cpuUsage(); process.send({ marked: true }) }
    if (m === 'report') { const c = process.cpuUsage(mark); process.send({ cpuUs: c.user + c.system }) }
    if (m === 'exit') process.exit(0)
  })
} else {
  const child = fork(fileURLToPath(import.meta.url), ['server'], { stdio: 'inherit' })
  const next = () => new Promise((resolve) => child.once('message', resolve))
  const { port } = await next()
  const rounds = Number(process.argv[2] ?? 3)

  const one = (path) => new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    let frames = 0
    let prev = 0
    let tail = ''
    sock.on('connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n`))
    sock.on('data', (b) => {
      let idx = 0
      if (prev === 10 && b[0] === 10) { frames++; idx = 1 }
      while ((idx = b.indexOf('\n\n', idx)) !== -1) { frames++; idx += 2 }
      prev = b[b.length - 1]
      tail = (tail + b.toString('latin1', Math.max(0, b.length - 7))).slice(-7)
      if (tail === '\r\n0\r\n\r\n') { sock.destroy(); resolve(frames) }
    })
    sock.on('error', reject)
    sock.on('close', () => resolve(frames))
  })

  const run = async (mode, streams, n, batch) => {
    child.send('mark'); await next()
    const t0 = process.hrtime.bigint()
    const counts = await Promise.all(Array.from({ length: streams }, () => one(`/s?mode=${mode}&n=${n}&batch=${batch}`)))
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    child.send('report')
    const { cpuUs } = await next()
    const tokens = streams * n
    const frames = counts.reduce((a, b) => a + b, 0)
    if (frames !== streams * (n + 2)) throw new Error(`${mode}: expected ${streams * (n + 2)} frames, got ${frames}`)
    return { tps: tokens / s, cpuPerM: (cpuUs / 1e6) / (tokens / 1e6) }
  }

  const modes = ['naive', 'buffered', 'micro-batch']
  const shapes = [
    ['1 stream x 200k, burst 16/turn', 1, 200_000, 16],
    ['100 streams x 2k, burst 16/turn', 100, 2_000, 16],
    ['1 stream x 50k, paced 1/turn', 1, 50_000, 1],
    ['100 streams x 500, paced 1/turn', 100, 500, 1],
  ]
  const results = {}
  await run('buffered', 10, 2000, 16) // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [label, streams, n, batch] of shapes) {
      const order = modes.map((_, k) => modes[(k + r) % modes.length])
      const round = {}
      for (const m of order) round[m] = await run(m, streams, n, batch)
      for (const m of modes) {
        const key = `${label}|${m}`
        ;(results[key] ??= []).push({ ...round[m], tpsRatio: round[m].tps / round.naive.tps, cpuRatio: round[m].cpuPerM / round.naive.cpuPerM })
      }
    }
  }
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1] }
  console.log(`SSE emitter, ${rounds} rounds (median), node ${process.version}; ratios vs naive in the same round\n`)
  console.log(
    'shape'.padEnd(34) + 'mode'.padEnd(13) + 'tokens/s'.padStart(11) +
    'CPU-s/1M tok'.padStart(14) + 'tok/s ratio'.padStart(13) + 'CPU ratio'.padStart(11)
  )
  for (const [label] of shapes) {
    for (const m of modes) {
      const rs = results[`${label}|${m}`]
      console.log(
        label.padEnd(34) + m.padEnd(13) + Math.round(med(rs.map((x) => x.tps))).toString().padStart(11) +
        med(rs.map((x) => x.cpuPerM)).toFixed(2).padStart(14) + med(rs.map((x) => x.tpsRatio)).toFixed(2).padStart(13) +
        med(rs.map((x) => x.cpuRatio)).toFixed(2).padStart(11)
      )
    }
  }
  child.send('exit')
}
