import type { TaskRequest } from '../../sdk/index.js'
import type { JobSpec } from '../placement/index.js'

/** What placement needs of a task: `need` is the estimated prompt tokens plus `max_tokens`. */
export function jobOf (req: TaskRequest, need: number): JobSpec {
  return {
    engine: req.engine,
    modelId: req.model_ref,
    requiredCtx: Math.max(req.ctx, need),
    priority: req.priority,
    ...(req.expected_tokens !== undefined ? { expectedTokens: req.expected_tokens } : {}),
    ...(req.sampler_profile_version ? { samplerProfileVersion: req.sampler_profile_version } : {}),
  }
}
