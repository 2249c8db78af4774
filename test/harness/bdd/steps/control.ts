/** Control plane and observability: pool health, capabilities, catalog pages, /metrics, narration. */
import { Then, When } from '@cucumber/cucumber'
import assert from 'node:assert/strict'
import type { OrchWorld } from '../world.js'
import { evidence } from '../evidence.js'
import { at, labels, list, literal, metricValue } from './support.js'

When(/^the health of pool "([^"]+)" shows "([^"]+)" (?:is|equal to) (.+)$/, async function (this: OrchWorld, id: string, path: string, value: string) {
  const want = literal(value)
  let got: unknown
  await this.until(`pool ${id} health has ${path} = ${value} (now ${JSON.stringify(got)})`, async () => {
    got = at((await this.call('GET', `/v1/pools/${id}/health`)).json, path)
    return JSON.stringify(got) === JSON.stringify(want)
  })
})

When('the health of pool {string} shows {string} ending with {string}', async function (this: OrchWorld, id: string, path: string, suffix: string) {
  let got: unknown
  await this.until(`pool ${id} health has ${path} ending with ${suffix} (now ${JSON.stringify(got)})`, async () => {
    got = at((await this.call('GET', `/v1/pools/${id}/health`)).json, path)
    return typeof got === 'string' && got.endsWith(suffix)
  })
})

Then('the field {string} of the response is not null', function (this: OrchWorld, path: string) {
  const v = at(this.reply.json, path)
  assert.ok(v !== null && v !== undefined, `${path} = ${JSON.stringify(v)} in ${this.reply.body.slice(0, 400)}`)
})

Then('the response field {string} equals the OpenAPI info.version', async function (this: OrchWorld, path: string) {
  const got = at(this.reply.json, path)
  const openapi = await this.raw('GET', '/v1/openapi.json')
  assert.equal(openapi.status, 200)
  assert.equal(typeof got, 'string')
  assert.equal(got, openapi.json.info.version)
})

Then(/^the response list "([^"]+)" has an item with "([^"]+)" equal to (.+)$/, function (this: OrchWorld, path: string, key: string, value: string) {
  const items = at(this.reply.json, path)
  assert.ok(Array.isArray(items), `${path} is not a list: ${this.reply.body.slice(0, 400)}`)
  assert.ok(items.some((i) => JSON.stringify(at(i, key)) === JSON.stringify(literal(value))), `no item with ${key} = ${value} in ${JSON.stringify(items)}`)
})

When('I create the catalog models {string}', async function (this: OrchWorld, ids: string) {
  for (const id of list(ids)) {
    const r = await this.call('POST', '/v1/catalog/models', { body: { id, digest: `sha256:${'a'.repeat(64)}` } })
    assert.equal(r.status, 201, r.body)
  }
})

When('I page through the catalog models {int} at a time', async function (this: OrchWorld, limit: number) {
  const pages: string[][] = []
  let cursor: string | null = null
  do {
    const r = await this.call('GET', `/v1/catalog/models?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    assert.equal(r.status, 200, r.body)
    pages.push((r.json.items as Array<{ id: string }>).map((i) => i.id))
    cursor = r.json.next_cursor
    assert.ok(pages.length <= 20, 'the pages never end')
  } while (cursor !== null)
  this.memo.set('pages', pages.length)
  this.attach(JSON.stringify(pages), 'application/json')
  ;(this as unknown as { pages: string[][] }).pages = pages
})

Then('the pages hold {string} items and together the models {string} once each', function (this: OrchWorld, sizes: string, ids: string) {
  const pages = (this as unknown as { pages: string[][] }).pages
  assert.deepEqual(pages.map((p) => p.length), list(sizes).map(Number))
  assert.deepEqual(pages.flat().sort(), list(ids).sort())
})

When('I remember the response header {string}', function (this: OrchWorld, name: string) {
  const v = this.reply.headers[name.toLowerCase()]
  assert.ok(v, `no ${name}`)
  ;(this as unknown as { remembered: string }).remembered = v
})

When('I GET {string} with If-None-Match set to the remembered header', async function (this: OrchWorld, path: string) {
  await this.call('GET', path, { headers: { 'if-none-match': (this as unknown as { remembered: string }).remembered } })
})

Then('the response header {string} differs from the remembered one', function (this: OrchWorld, name: string) {
  const v = this.reply.headers[name.toLowerCase()]
  assert.ok(v, `no ${name}`)
  assert.notEqual(v, (this as unknown as { remembered: string }).remembered)
})

async function scrape (world: OrchWorld): Promise<string> {
  const r = await world.raw('GET', '/metrics')
  assert.equal(r.status, 200)
  return r.body
}

When(/^I note the metric "([a-z_:]+)"(?: with labels "([^"]*)")?$/, async function (this: OrchWorld, name: string, l?: string) {
  this.memo.set(`metric:${name}:${l ?? ''}`, metricValue(await scrape(this), name, labels(l)))
})

Then(/^the metric "([a-z_:]+)"(?: with labels "([^"]*)")? went up by (\d+)$/, async function (this: OrchWorld, name: string, l: string | undefined, by: string) {
  const before = this.memo.get(`metric:${name}:${l ?? ''}`)
  assert.ok(before !== undefined, `metric ${name} was not noted first`)
  assert.equal(metricValue(await scrape(this), name, labels(l)) - before, Number(by))
})

When('I scrape the metrics', async function (this: OrchWorld) {
  await this.call('GET', '/metrics')
  if (this.reply.status === 200 && evidence.metricsSample === null && /engine_version="/.test(this.reply.body)) evidence.metricsSample = this.reply.body
})

Then('the scrape has a {string} line for {string}', function (this: OrchWorld, kind: string, name: string) {
  assert.match(this.reply.body, new RegExp(`^# ${kind} ${name} \\w+$`, 'm'), `no "# ${kind} ${name}" line`)
})

Then('some sample of the scrape has the label engine_version={string}', function (this: OrchWorld, v: string) {
  const samples = this.reply.body.split('\n').filter((l) => !l.startsWith('#') && l.includes(`engine_version="${v}"`))
  assert.ok(samples.length > 0, `no sample with engine_version="${v}"`)
})

Then('the narration has an {string} record for task {string} with fields {string}', function (this: OrchWorld, action: string, name: string, fields: string) {
  const id = this.task(name).id
  const recs = this.capture!.records().filter((r) => r.action === action && r.task_id === id)
  const actions = [...new Set(this.capture!.records().map((r) => r.action))].join(', ')
  assert.equal(recs.length, 1, `${recs.length} ${action} records for ${name}; actions: ${actions}`)
  for (const f of list(fields)) assert.notEqual(recs[0]![f], undefined, `no ${f} in ${JSON.stringify(recs[0])}`)
  assert.ok(typeof recs[0]!.human === 'string' && recs[0]!.human.length <= 100, 'a human line of at most 100 chars')
})

Then('the narration of task {string} carries the correlation id {string}', function (this: OrchWorld, name: string, cid: string) {
  const id = this.task(name).id
  const recs = this.capture!.records().filter((r) => r.task_id === id)
  assert.ok(recs.length > 0, 'no narration for the task')
  for (const r of recs.filter((r) => r.action === 'admission' || r.action === 'started')) assert.equal(r.correlation_id, cid, JSON.stringify(r))
})

Then('no log line contains {string}', function (this: OrchWorld, text: string) {
  const logs = this.capture!.text()
  assert.ok(logs.length > 0, 'nothing was logged, so nothing was checked')
  assert.ok(!logs.includes(text), `the logs hold ${JSON.stringify(text.slice(0, 6))}…`)
})

Then('neither the metrics nor the capabilities contain {string}', async function (this: OrchWorld, text: string) {
  for (const p of ['/metrics', '/v1/capabilities']) {
    const r = await this.raw('GET', p)
    assert.equal(r.status, 200, `${p}: ${r.status}`)
    assert.ok(!r.body.includes(text), `${p} holds it`)
  }
})

async function servedModel (world: OrchWorld, pool: string): Promise<string> {
  const h = await world.raw('GET', `/v1/pools/${pool}/health`)
  assert.equal(typeof h.json?.model_id, 'string', `pool ${pool} serves no model: ${h.body}`)
  return encodeURIComponent(h.json.model_id)
}

When('I GET the catalog entry of the model pool {string} serves', async function (this: OrchWorld, pool: string) {
  await this.call('GET', `/v1/catalog/models/${await servedModel(this, pool)}`)
})

When('I POST the verify of the model pool {string} serves', async function (this: OrchWorld, pool: string) {
  const id = await servedModel(this, pool)
  await this.call('POST', `/v1/catalog/models/${id}/verify`)
  const r = this.reply
  // the verification runs after the 202: wait for the entry to record it
  const verified = async (): Promise<boolean> => typeof (await this.raw('GET', `/v1/catalog/models/${id}`)).json?.last_verified_ms === 'number'
  await this.until('the entry records last_verified_ms', verified)
  this.last = r
})
