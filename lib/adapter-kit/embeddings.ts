import type { OneShotRequest } from './protocol.js'

interface EmbeddingsAnswer { data?: Array<{ index?: unknown, embedding?: unknown }>, usage?: { prompt_tokens?: unknown } }

const isVector = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x))

/**
 * An embedding task in the OpenAI dialect (`POST …/embeddings`: llama-server started with
 * `--embeddings`, the embedded worker, vLLM, OpenAI): one vector per input, put back in input
 * order by `index`; an answer of the wrong shape fails the task rather than returning less.
 */
export function openAiEmbeddings (path: string, model: string | undefined, inputs: readonly string[]): OneShotRequest {
  return {
    path,
    body: { ...(model !== undefined ? { model } : {}), input: inputs, encoding_format: 'float' },
    result (answer, sink) {
      const a = (answer ?? {}) as EmbeddingsAnswer
      const data = Array.isArray(a.data) ? a.data : []
      const byIndex = [...data].sort((x, y) => Number(x.index ?? 0) - Number(y.index ?? 0))
      if (byIndex.length !== inputs.length || !byIndex.every((d) => isVector(d.embedding))) {
        sink.fail('malformed_frame', `the engine answered ${path} with ${byIndex.length} vectors for ${inputs.length} inputs, or not as numbers`)
        return
      }
      const used = a.usage?.prompt_tokens
      const embeddings = byIndex.map((d) => d.embedding as number[])
      sink.end({ stop_reason: 'eos', tokens_out: 0, tokens_in: typeof used === 'number' ? used : undefined, embeddings })
    },
  }
}
