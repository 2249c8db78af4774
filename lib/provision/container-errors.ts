import createError from '@fastify/error'

/** What the container providers (vllm, tgi, triton in mode container, spec pools §2.6) throw; each message says what to do. */

export const ORC_ERR_CONTAINER_RUNTIME_MISSING = createError<[string, string]>(
  'ORC_ERR_CONTAINER_RUNTIME_MISSING',
  'pool %s: no container runtime on PATH: %s; or start the engine yourself and use provisioning.mode: external',
  500
)

/** The runtime itself failed (daemon down, no permission): not an image problem. */
export const ORC_ERR_CONTAINER_RUNTIME = createError<[string, string, string]>(
  'ORC_ERR_CONTAINER_RUNTIME',
  'pool %s: `%s` failed: %s; check that the container runtime works (podman info / docker info) and that this user may use it',
  502
)

export const ORC_ERR_CONTAINER_POLICY = createError<[string, string, string]>(
  'ORC_ERR_CONTAINER_POLICY',
  'pool %s: %s; or pull the image on this host yourself (%s) so that nothing is downloaded',
  403
)

export const ORC_ERR_CONTAINER_PULL = createError<[string, string, string]>(
  'ORC_ERR_CONTAINER_PULL',
  'pool %s: pulling %s failed: %s; check provisioning.container.image and tag, the registry login (podman login / docker login) and the network',
  502
)

export const ORC_ERR_CONTAINER_DIGEST = createError<[string, string, string]>(
  'ORC_ERR_CONTAINER_DIGEST',
  'pool %s: image %s does not carry the pinned digest (it has %s); pull it by digest again or correct provisioning.container',
  502
)

export const ORC_ERR_CONTAINER_NO_IMAGE = createError<[string, string, string]>(
  'ORC_ERR_CONTAINER_NO_IMAGE',
  'pool %s: engine %s runs in a container and needs provisioning.container.image; set it (for example %s) and a pinned tag',
  500
)

export const ORC_ERR_CONTAINER_NO_MODEL = createError<[string, string]>(
  'ORC_ERR_CONTAINER_NO_MODEL',
  'pool %s: the %s provider needs the resolved model (prepare(pool, { model }))',
  500
)

export const ORC_ERR_CONTAINER_GPU_REQUIRED = createError<[string, string]>(
  'ORC_ERR_CONTAINER_GPU_REQUIRED',
  'pool %s: compute_policy is gpu-required, but %s; install the GPU driver and the NVIDIA container toolkit and check `devices`, ' +
    'or set compute_policy to cpu-fallback or cpu-only',
  503
)
