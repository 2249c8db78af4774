import createError from '@fastify/error'

/** What the embedded provider, its worker process and its GGUF writer throw (decisions 1–3). */

export const ORC_ERR_EMBEDDED_FLAG = createError<[string, string]>(
  'ORC_ERR_EMBEDDED_FLAG',
  'flag %s needs a positive integer, got "%s"',
  400
)

/** A gpu-required pool without the GPU it needs: fails fast, never falls back (decision 1). */
export const ORC_ERR_EMBEDDED_GPU_REQUIRED = createError<[string, string, string]>(
  'ORC_ERR_EMBEDDED_GPU_REQUIRED',
  'pool %s: compute_policy is gpu-required, but %s; %s, or set compute_policy to cpu-fallback or cpu-only',
  503
)

export const ORC_ERR_EMBEDDED_NO_MODEL = createError<[string]>(
  'ORC_ERR_EMBEDDED_NO_MODEL',
  'pool %s: the embedded provisioner needs the resolved model (prepare(pool, { model }))',
  500
)

export const ORC_ERR_EMBEDDED_NO_GPU_BACKEND = createError(
  'ORC_ERR_EMBEDDED_NO_GPU_BACKEND',
  'compute_policy gpu-required, but node-llama-cpp found no GPU backend (CUDA, Vulkan or Metal); ' +
  'install the GPU driver, or set compute_policy to cpu-fallback or cpu-only',
  503
)

/** A request that waited for a slot when the worker began to stop; the client sees a 503. */
export const ORC_ERR_EMBEDDED_SHUTTING_DOWN = createError(
  'ORC_ERR_EMBEDDED_SHUTTING_DOWN',
  'engine is shutting down',
  503
)

/** The abort reason of a generation whose HTTP client went away. */
export const ORC_ERR_EMBEDDED_CLIENT_GONE = createError(
  'ORC_ERR_EMBEDDED_CLIENT_GONE',
  'client disconnected',
  499
)

/** A bad command line of the worker process (`node worker.js --model FILE …`). */
export const ORC_ERR_EMBEDDED_WORKER_ARGS = createError<[string]>(
  'ORC_ERR_EMBEDDED_WORKER_ARGS',
  '%s',
  400
)

export const ORC_ERR_EMBEDDED_TINY_CTX = createError<[string]>(
  'ORC_ERR_EMBEDDED_TINY_CTX',
  'tiny model: ctx must be an integer ≥ 16, got %s',
  400
)

export const ORC_ERR_EMBEDDED_GGUF_TENSOR = createError<[string, number, string, number]>(
  'ORC_ERR_EMBEDDED_GGUF_TENSOR',
  'gguf: tensor %s has %s values for dims [%s] (%s)',
  500
)
