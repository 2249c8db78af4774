/** The data plane: submit, stream, cancel, sessions; assertions on SSE transcripts. */
import { Then, When } from '@cucumber/cucumber'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { OrchWorld, StreamHandle } from '../world.js'
import { at, list, literal } from './support.js'

function validTask (model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task_id: randomUUID(),
    session_id: randomUUID(),
    workload: 'completion',
    model_ref: model,
    engine: 'llamacpp',
    ctx: 0,
    priority: 'interactive',
    prompt: 'Hi',
    max_tokens: 8,
    deadline_ms: 5000,
    ...extra,
  }
}

async function submit (world: OrchWorld, name: string, body: Record<string, unknown>): Promise<void> {
  const r = await world.call('POST', '/v1/tasks', { body })
  world.tasks.set(name, { id: String(body.task_id), admission: r, sessionId: String(body.session_id) })
}

When('I submit task {string} for model {string}', async function (this: OrchWorld, name: string, model: string) {
  await submit(this, name, validTask(model))
})

When('I submit task {string} for model {string} with max_tokens {int}', async function (this: OrchWorld, name: string, model: string, n: number) {
  await submit(this, name, validTask(model, { max_tokens: n }))
})

When(/^I submit task "([^"]+)" for model "([^"]+)" with priority "(interactive|batch)"$/, async function (this: OrchWorld, name: string, model: string, p: string) {
  await submit(this, name, validTask(model, { priority: p }))
})

When(/^I submit task "([^"]+)" for model "([^"]+)" with "([^"]+)" set to (.+)$/, async function (this: OrchWorld, name: string, model: string, field: string, value: string) {
  await submit(this, name, validTask(model, { [field]: literal(value) }))
})

When('I open the stream of task {string}', async function (this: OrchWorld, name: string) {
  await this.openStream(name, `/v1/tasks/${this.task(name).id}/stream`)
})

When('I read the stream of task {string} to the end', async function (this: OrchWorld, name: string) {
  const s = await this.openStream(name, `/v1/tasks/${this.task(name).id}/stream`)
  await s.done
})

When(/^the stream of task "([^"]+)" has (\d+) token frames?$/, async function (this: OrchWorld, name: string, n: string) {
  const s = this.stream(name)
  await this.until(`task ${name} streamed ${n} tokens (has ${tokens(s).length})`, () => tokens(s).length >= Number(n))
})

When('the stream of task {string} ends', async function (this: OrchWorld, name: string) {
  const s = this.stream(name)
  await Promise.race([s.done, new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`the stream of task ${name} did not end in 3 s`)), 3000))])
  assert.equal(s.error, null, `reading the stream failed: ${String(s.error)}`)
})

When('I cancel task {string}', async function (this: OrchWorld, name: string) {
  await this.call('POST', `/v1/tasks/${this.task(name).id}/cancel`)
  this.memo.set(`ack:${name}`, Date.now())
})

const tokens = (s: StreamHandle): StreamHandle['frames'] => s.frames.filter((f) => f.event === 'token')
const frame = (world: OrchWorld, name: string, event: string): Record<string, unknown> => {
  const f = world.stream(name).frames.find((x) => x.event === event)
  assert.ok(f, `task ${name} has no ${event} frame: ${world.stream(name).raw.slice(0, 600)}`)
  return f.json
}

Then('the stream of task {string} has events in the order {string}', function (this: OrchWorld, name: string, order: string) {
  const events = this.stream(name).frames.map((f) => f.event)
  let last = -1
  for (const e of list(order)) {
    const i = events.indexOf(e)
    assert.ok(i > last, `first ${e} at ${i}, not after index ${last}: ${events.join(', ')}`)
    last = i
  }
})

Then('the stream of task {string} has exactly the events {string}', function (this: OrchWorld, name: string, order: string) {
  assert.deepEqual(this.stream(name).frames.map((f) => f.event), list(order))
})

Then(/^the stream of task "([^"]+)" has (\d+) token frames with "i" counting from 0$/, function (this: OrchWorld, name: string, n: string) {
  assert.deepEqual(tokens(this.stream(name)).map((f) => f.json.i), Array.from({ length: Number(n) }, (_, i) => i))
})

Then('the stream of task {string} has fewer than {int} token frames', function (this: OrchWorld, name: string, n: number) {
  const got = tokens(this.stream(name)).length
  assert.ok(got < n, `${got} token frames`)
})

Then('the stream of task {string} has no {string} frame', function (this: OrchWorld, name: string, event: string) {
  const events = this.stream(name).frames.map((f) => f.event)
  assert.ok(!events.includes(event), `a ${event} frame is there: ${events.join(', ')}`)
})

Then('the last event of task {string} is {string}', function (this: OrchWorld, name: string, event: string) {
  const events = this.stream(name).frames.map((f) => f.event)
  assert.equal(events.at(-1), event, events.join(', '))
  assert.equal(events.filter((e) => e === 'end' || e === 'error').length, 1, `exactly one terminal event: ${events.join(', ')}`)
})

Then(/^the "([a-z]+)" frame of task "([^"]+)" has "([^"]+)" equal to (.+)$/, function (this: OrchWorld, event: string, name: string, path: string, value: string) {
  assert.deepEqual(at(frame(this, name, event), path), literal(value))
})

Then(/^the "([a-z]+)" frame of task "([^"]+)" has fields "([^"]+)"$/, function (this: OrchWorld, event: string, name: string, fields: string) {
  const f = frame(this, name, event)
  for (const k of list(fields)) assert.notEqual(at(f, k), undefined, `no ${k} in ${JSON.stringify(f)}`)
})

Then('the "end" frame of task {string} counts its token frames in tokens_out', function (this: OrchWorld, name: string) {
  assert.equal(frame(this, name, 'end').tokens_out, tokens(this.stream(name)).length)
})

Then('the "started" frame of task {string} repeats the queue estimate of its admission', function (this: OrchWorld, name: string) {
  const started = frame(this, name, 'started')
  const admission = this.task(name).admission.json
  assert.equal(typeof admission?.queue_position, 'number', `the 202 of ${name}: ${this.task(name).admission.body}`)
  assert.equal(started.queue_position, admission.queue_position)
  assert.equal(started.predicted_start_ms, admission.predicted_start_ms)
})

Then('the tokens of task {string} spell {string}', function (this: OrchWorld, name: string, text: string) {
  assert.equal(tokens(this.stream(name)).map((f) => f.json.t).join(''), text)
})

Then('no token frame of task {string} arrived after the cancel acknowledgement', function (this: OrchWorld, name: string) {
  const ack = this.memo.get(`ack:${name}`)
  assert.ok(ack !== undefined, `task ${name} was not canceled`)
  const late = tokens(this.stream(name)).filter((f) => f.at > ack)
  assert.equal(late.length, 0, `tokens after the 204: ${late.map((f) => f.json.i).join(', ')}`)
})

Then('the engine received {int} generation request(s)', function (this: OrchWorld, n: number) {
  const first = this.engines.keys().next().value!
  assert.equal(this.engine.hits('/completion').length - (this.memo.get(`engine:${first}:baseline`) ?? 0), n)
})

Then('the engine saw the client go away mid-stream', async function (this: OrchWorld) {
  await this.until('the fake engine records a client disconnect', () => this.engine.disconnects >= 1)
})

Then('the engine was asked to complete the prompt {string}', function (this: OrchWorld, prompt: string) {
  const first = this.engines.keys().next().value!
  const hits = this.engine.hits('/completion').slice(this.memo.get(`engine:${first}:baseline`) ?? 0)
  assert.deepEqual(hits.map((h) => h.body?.prompt), [prompt])
})
