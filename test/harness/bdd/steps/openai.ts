/** The OpenAI-compatible surface, over the same pools. */
import { Then, When } from '@cucumber/cucumber'
import assert from 'node:assert/strict'
import type { OrchWorld } from '../world.js'

When('I ask the chat completions API of model {string} to say {string}', async function (this: OrchWorld, model: string, text: string) {
  await this.call('POST', '/v1/chat/completions', { body: { model, messages: [{ role: 'user', content: text }], max_tokens: 16 } })
})

When('I stream a chat completion of model {string}', async function (this: OrchWorld, model: string) {
  const s = await this.openStream('chat', '/v1/chat/completions', {
    method: 'POST',
    body: { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 16, stream: true },
    parse: false,
  })
  await s.done
})

Then('the chat stream spells {string} and ends with [DONE]', function (this: OrchWorld, text: string) {
  const s = this.stream('chat')
  assert.equal(s.status, 200, s.raw.slice(0, 400))
  const datas = s.raw.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6))
  assert.equal(datas.at(-1), '[DONE]', 'the last data line')
  const content = datas.slice(0, -1).map((d) => JSON.parse(d)).map((c) => c.choices?.[0]?.delta?.content ?? '').join('')
  assert.equal(content, text)
})
