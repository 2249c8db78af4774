/** Generic HTTP steps: requests against the app and assertions on the last response. */
import { Given, Then, When } from '@cucumber/cucumber'
import assert from 'node:assert/strict'
import type { OrchWorld } from '../world.js'
import { at, expand, list, literal } from './support.js'

Given('my requests carry the header {string} with value {string}', function (this: OrchWorld, name: string, value: string) {
  this.headers[name.toLowerCase()] = value
})

When(/^I (GET|DELETE) "([^"]+)"$/, async function (this: OrchWorld, method: string, path: string) {
  await this.call(method, expand(this, path))
})

When(/^I GET "([^"]+)" with header "([^"]+)" set to "([^"]*)"$/, async function (this: OrchWorld, path: string, name: string, value: string) {
  await this.call('GET', expand(this, path), { headers: { [name.toLowerCase()]: expand(this, value) } })
})

When(/^I POST "([^"]+)" with JSON (\{.*\})$/, async function (this: OrchWorld, path: string, body: string) {
  await this.call('POST', expand(this, path), { body: JSON.parse(expand(this, body)) })
})

Then('the response status is {int}', function (this: OrchWorld, status: number) {
  assert.equal(this.reply.status, status, `status ${this.reply.status}, body ${this.reply.body.slice(0, 400)}`)
})

Then('the response has header {string}', function (this: OrchWorld, name: string) {
  assert.ok(this.reply.headers[name.toLowerCase()], `no ${name} header in ${JSON.stringify(this.reply.headers)}`)
})

Then('the response has no header {string}', function (this: OrchWorld, name: string) {
  assert.equal(this.reply.headers[name.toLowerCase()], undefined, `${name} is there`)
})

Then('the response header {string} is {string}', function (this: OrchWorld, name: string, value: string) {
  assert.equal(this.reply.headers[name.toLowerCase()], expand(this, value))
})

Then('the response header {string} starts with {string}', function (this: OrchWorld, name: string, value: string) {
  const h = this.reply.headers[name.toLowerCase()] ?? ''
  assert.ok(h.startsWith(value), `${name}: ${JSON.stringify(h)} does not start with ${JSON.stringify(value)}`)
})

Then('the response correlation id is a fresh UUIDv4', function (this: OrchWorld) {
  assert.match(this.correlationId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})

Then('the response has fields {string}', function (this: OrchWorld, fields: string) {
  for (const f of list(fields)) assert.notEqual(at(this.reply.json, f), undefined, `no field ${f} in ${this.reply.body.slice(0, 400)}`)
})

Then(/^the response field "([^"]+)" is (.+)$/, function (this: OrchWorld, path: string, value: string) {
  assert.deepEqual(at(this.reply.json, path), literal(expand(this, value)), `field ${path} of ${this.reply.body.slice(0, 400)}`)
})

Then(/^the response field "([^"]+)" ends with "([^"]*)"$/, function (this: OrchWorld, path: string, suffix: string) {
  const v = at(this.reply.json, path)
  assert.ok(typeof v === 'string' && v.endsWith(suffix), `field ${path} = ${JSON.stringify(v)} does not end with ${suffix}`)
})

Then(/^the response field "([^"]+)" has type (string|number|boolean|list)$/, function (this: OrchWorld, path: string, kind: string) {
  const v = at(this.reply.json, path)
  if (kind === 'list') assert.ok(Array.isArray(v), `field ${path} = ${JSON.stringify(v)} is not a list`)
  else assert.equal(typeof v, kind, `field ${path} = ${JSON.stringify(v)}`)
})

Then('the response body is empty', function (this: OrchWorld) {
  assert.equal(this.reply.body, '')
})

Then('the response body does not contain {string}', function (this: OrchWorld, text: string) {
  assert.ok(!this.reply.body.includes(text), `the body holds ${JSON.stringify(text)}`)
})

Then('the response body contains {string}', function (this: OrchWorld, text: string) {
  assert.ok(this.reply.body.includes(text), `the body lacks ${JSON.stringify(text)}: ${this.reply.body.slice(0, 400)}`)
})

Then('the response is an error envelope with code {string}', function (this: OrchWorld, code: string) {
  const j = this.reply.json
  assert.equal(j?.code, code, `body ${this.reply.body.slice(0, 400)}`)
  assert.equal(typeof j?.message, 'string', 'an envelope has a message')
  assert.ok(this.correlationId, 'an error carries X-Correlation-Id')
})

Then('the backoff headers agree with retry_after_ms', function (this: OrchWorld) {
  const ms = this.reply.json?.retry_after_ms
  assert.equal(typeof ms, 'number', `retry_after_ms in ${this.reply.body}`)
  assert.equal(this.reply.headers['retry-after'], String(Math.ceil(ms / 1000)), 'Retry-After is whole seconds, rounded up')
  assert.equal(this.reply.headers['x-backoff-ms'], String(ms))
})
