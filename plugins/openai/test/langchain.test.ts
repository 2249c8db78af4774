import t from 'tap'
import { ChatOpenAI } from '@langchain/openai'
import { f0 } from '../../../test/fixtures/dataplane.js'

// Issue 11: a third real client, LangChain's ChatOpenAI (v1, on the official SDK), on the chat
// route of fixture F0 (mock llama.cpp adapter, which declares chat like the real one).
const chat = (base: string, o: Record<string, unknown> = {}): ChatOpenAI =>
  new ChatOpenAI({ model: 'model0', apiKey: 'not-checked', configuration: { baseURL: `${base}/v1` }, maxRetries: 0, ...o })

t.test('issue 11: LangChain ChatOpenAI invokes and streams a chat; its defaults pass honour or reject', async (t) => {
  const h = await f0(t, { mock: { tokens: ['4', '5', '6'] } })
  const model = chat(h.base, { maxTokens: 3, temperature: 0 })
  const msg = await model.invoke([['system', 'Count on.'], ['human', 'Count: 3']])
  t.equal(msg.content, '456')
  t.match(msg.usage_metadata, { input_tokens: 3, output_tokens: 3, total_tokens: 6 })
  t.equal(msg.response_metadata.finish_reason, 'length')

  let text = ''
  for await (const chunk of await model.stream('Count: 3')) text += String(chunk.content)
  t.equal(text, '456')
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 2, 'each call was a task')
})

t.test('issue 11: LangChain sees a refusal with its param; bound stop sequences reach the task', async (t) => {
  const h = await f0(t, { mock: { tokens: ['4', '5', '6'] } })
  const refused = await chat(h.base, { temperature: 0.7 }).invoke('x').catch((e: unknown) => e)
  t.match(refused, { status: 400, message: /\/sampling\/temperature is not honoured/ })
  const stopped = await chat(h.base, { maxTokens: 3 }).invoke('Count: 3', { stop: ['6'] })
  t.equal(stopped.content, '45', 'stop reached the engine (the mock honours stop sequences)')
})
