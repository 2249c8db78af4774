import { JinjaTemplateChatWrapper, type ChatHistoryItem, type LlamaModel } from 'node-llama-cpp'

/**
 * llama-server's `POST /apply-template` for the embedded worker (issue 11): the chat messages
 * rendered by the model's own Jinja template from its GGUF (`tokenizer.chat_template`), with
 * the assistant's turn opened, as the prompt text a completion then continues. Rendering is
 * node-llama-cpp's (never a template of ours). The BOS token is left out of the text, as
 * llama-server leaves it out: tokenizing the prompt for a completion adds it.
 */
export interface ChatMessage { role: 'system' | 'user' | 'assistant', content: string }

const wrappers = new WeakMap<LlamaModel, JinjaTemplateChatWrapper>()

function wrapperOf (model: LlamaModel): JinjaTemplateChatWrapper {
  let w = wrappers.get(model)
  if (w) return w
  const template = model.fileInfo.metadata.tokenizer?.chat_template
  if (typeof template !== 'string' || template === '') throw new TypeError('this model has no chat template (tokenizer.chat_template in its GGUF)')
  w = new JinjaTemplateChatWrapper({ template })
  wrappers.set(model, w)
  return w
}

const itemOf = (m: ChatMessage): ChatHistoryItem =>
  m.role === 'system' ? { type: 'system', text: m.content } : m.role === 'user' ? { type: 'user', text: m.content } : { type: 'model', response: [m.content] }

export function applyTemplate (model: LlamaModel, messages: readonly ChatMessage[]): string {
  const history: ChatHistoryItem[] = [...messages.map(itemOf), { type: 'model', response: [] }]
  const { contextText } = wrapperOf(model).generateContextState({ chatHistory: history })
  const json = contextText.toJSON()
  const parts = typeof json === 'string' ? [json] : json
  return parts.map((v) => typeof v === 'string' ? v : v.type === 'specialTokensText' ? v.value : '').join('')
}

/** The `messages` of an `/apply-template` body, checked; throws a TypeError naming what is wrong. */
export function chatMessages (v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) throw new TypeError('"messages" must be a non-empty array')
  return v.map((m, i) => {
    const { role, content } = (m ?? {}) as Record<string, unknown>
    if (role !== 'system' && role !== 'user' && role !== 'assistant') throw new TypeError(`"messages[${i}].role" must be system, user or assistant`)
    if (typeof content !== 'string') throw new TypeError(`"messages[${i}].content" must be a string`)
    return { role, content }
  })
}
