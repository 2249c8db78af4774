import createError from '@fastify/error'

/** What the llama.cpp provider throws (spec pools §2.3–2.5); each message says what to do. */

export const ORC_ERR_LLAMACPP_TOOL_MISSING = createError<[string, string]>(
  'ORC_ERR_LLAMACPP_TOOL_MISSING',
  'pool %s: missing tools: %s',
  500
)

export const ORC_ERR_LLAMACPP_POLICY = createError<[string, string]>(
  'ORC_ERR_LLAMACPP_POLICY',
  'pool %s: %s',
  403
)

export const ORC_ERR_LLAMACPP_SOURCE = createError<[string, string]>(
  'ORC_ERR_LLAMACPP_SOURCE',
  'pool %s: fetching the llama.cpp source failed: %s',
  502
)

/** A configure or compile that failed with no fallback left (a CPU build, or gpu-required). */
export const ORC_ERR_LLAMACPP_BUILD = createError<[string, string]>(
  'ORC_ERR_LLAMACPP_BUILD',
  'pool %s: %s',
  500
)

/** The remedy differs by mode (install the CUDA toolkit for a build, pick a CUDA binary or package otherwise). */
export const ORC_ERR_LLAMACPP_GPU_REQUIRED = createError<[string, string, string]>(
  'ORC_ERR_LLAMACPP_GPU_REQUIRED',
  'pool %s: compute_policy is gpu-required, but %s; %s, or set compute_policy to cpu-fallback or cpu-only',
  503
)

export const ORC_ERR_LLAMACPP_BINARY = createError<[string, string]>(
  'ORC_ERR_LLAMACPP_BINARY',
  'pool %s: %s',
  502
)

export const ORC_ERR_LLAMACPP_PACKAGE = createError<[string, string]>(
  'ORC_ERR_LLAMACPP_PACKAGE',
  'pool %s: %s',
  500
)

export const ORC_ERR_LLAMACPP_NO_MODEL = createError<[string]>(
  'ORC_ERR_LLAMACPP_NO_MODEL',
  'pool %s: the llama.cpp provider needs the resolved model (prepare(pool, { model }))',
  500
)
