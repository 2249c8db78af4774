import t from 'tap'
import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { KeepAlive, SseWriter, type Sink } from '../sse.js'
import { EventLog, frame, tokenFrame } from '../event-log.js'

/** A sink that records writes and can refuse them (backpressure) until drained. */
class FakeSink extends EventEmitter implements Sink {
  writes: string[] = []
  full = false
  writableEnded = false
  destroyed = false
  write (chunk: string): boolean { this.writes.push(chunk); return !this.full }
  end (): void { this.writableEnded = true }
  drain (): void { this.full = false; this.emit('drain') }
}

const started = (seq: number): string => frame(seq, 'started', { queue_position: 0, predicted_start_ms: 0 })

t.test('frames are serialized once, with id = frame index; a token costs one string', async (t) => {
  t.equal(tokenFrame(3, 'a"b\n', 2), 'id: 3\nevent: token\ndata: {"t":"a\\"b\\n","i":2}\n\n')
  t.equal(frame(0, 'end', { tokens_out: 0 }), 'id: 0\nevent: end\ndata: {"tokens_out":0}\n\n')
})

t.test('naive writes each frame; buffered coalesces one turn into one write; micro-batch waits', async (t) => {
  for (const [mode, expectWrites] of [['naive', 4], ['buffered', 1], ['micro-batch', 1]] as const) {
    const log = new EventLog(100)
    const sink = new FakeSink()
    const w = new SseWriter(log, sink, 0, { mode, microBatchMs: 3 })
    log.append(started)
    w.notify()
    for (let i = 0; i < 3; i++) { log.append((s) => tokenFrame(s, 'x', i)); w.notify() }
    await sleep(10)
    t.equal(sink.writes.length, expectWrites, `${mode}: ${expectWrites} write(s)`)
    t.equal(sink.writes.join(''), log.read(0), `${mode}: the same bytes`)
    log.append((s) => frame(s, 'end', {}), true)
    w.finish()
    await sleep(10)
    t.ok(sink.writableEnded, `${mode}: ends after the terminal frame`)
    t.ok(w.closed)
  }
})

t.test('backpressure: nothing is written after write() returns false until drain', async (t) => {
  const log = new EventLog(100)
  const sink = new FakeSink()
  const w = new SseWriter(log, sink, 0, { mode: 'naive' })
  log.append(started)
  sink.full = true
  w.notify()
  for (let i = 0; i < 5; i++) { log.append((s) => tokenFrame(s, 'x', i)); w.notify() }
  w.keepAlive()
  t.equal(sink.writes.length, 1, 'blocked after the first refused write')
  sink.drain()
  t.equal(sink.writes.join(''), log.read(0), 'the rest follows on drain, in order, once')
  sink.destroyed = true
  log.append((s) => frame(s, 'end', {}), true)
  w.flush()
  t.ok(w.closed, 'a destroyed socket closes the writer')
  w.keepAlive()
  w.close()
})

t.test('event log: started always kept, the rest bounded; replay from any index', async (t) => {
  const log = new EventLog(16)
  log.append(started)
  for (let i = 0; i < 40; i++) log.append((s) => tokenFrame(s, 't', i))
  t.equal(log.next, 41)
  const all = log.from(0)
  t.match(all[0], /event: started/)
  t.ok(all.length <= 16, 'bounded')
  t.match(all[1], /^id: (\d+)/)
  const firstKept = Number(/^id: (\d+)/.exec(all[1]!)![1])
  t.ok(firstKept > 1, 'older tokens were dropped')
  t.same(log.from(39).map((f) => /^id: (\d+)/.exec(f)![1]), ['39', '40'])
  t.equal(log.read(40), log.from(40)[0], 'the single newest frame fast path')
  t.equal(log.read(41), '')
  t.equal(log.from(5)[0], log.from(firstKept)[0], 'asking for a trimmed frame starts at the oldest kept')
  log.append((s) => frame(s, 'end', {}), true)
  t.notOk(log.append((s) => frame(s, 'token', {})), 'nothing after the terminal frame')
  const empty = new EventLog(4)
  t.same(empty.from(0), [])
})

t.test('keep-alive: one interval for all writers, only idle ones get a comment', async (t) => {
  const ka = new KeepAlive(60)
  const log = new EventLog(10)
  log.append(started)
  const idle = new FakeSink()
  const busy = new FakeSink()
  const wi = new SseWriter(log, idle, 1)
  const wb = new SseWriter(log, busy, 1)
  wi.lastWriteAt = Date.now() - 1000
  ka.add(wi)
  ka.add(wb)
  t.equal(ka.size, 2)
  const keepBusy = setInterval(() => { wb.lastWriteAt = Date.now() }, 5)
  await sleep(120)
  clearInterval(keepBusy)
  t.ok(idle.writes.includes(': keep-alive\n\n'))
  t.notOk(busy.writes.includes(': keep-alive\n\n'))
  ka.delete(wi)
  ka.delete(wb)
  t.equal(ka.size, 0)
  ka.add(wi)
  ka.stop()
  t.equal(ka.size, 0)
  wi.end()
  t.ok(idle.writableEnded)
})
