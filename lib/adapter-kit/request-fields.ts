import type { Determinism } from '../../sdk/determinism.js'
import type { TaskRequest } from '../../sdk/task.js'

/**
 * A task's stop sequences as the `stop` field of an engine body (issue 11), or nothing when it
 * has none, so engines that reject an empty list (or read it differently) never see one.
 */
export function stopField (req: Pick<TaskRequest, 'stop'>): { stop?: string[] } {
  return req.stop !== undefined && req.stop.length > 0 ? { stop: req.stop } : {}
}

/**
 * Sampler profile v1 in the OpenAI dialect (vLLM and OpenAI chat and completions bodies):
 * greedy (temperature 0, top_p 1), the task's seed, usage in the stream, its stop sequences.
 */
export function greedyOpenAiBody (model: string, req: Pick<TaskRequest, 'stop'>, d: Pick<Determinism, 'seed'>): Record<string, unknown> {
  return { model, stream: true, stream_options: { include_usage: true }, temperature: 0, top_p: 1, seed: d.seed, ...stopField(req) }
}
