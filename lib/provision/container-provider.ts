/**
 * One provisioner for an engine that runs in a container (vLLM, TGI, Triton; spec pools §2.6):
 * the engine supplies its image facts, ports, health path and command line, this supplies the
 * rest. `plan` only describes (deterministic, touches nothing); `prepare` finds the runtime,
 * decides the GPUs, makes sure of the image, records it in the engine catalog and returns the
 * foreground `run` the pool manager starts and supervises.
 */
import { stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import type { EngineBuild, Plan, PreparedEngine, Provisioner, ProvisioningPolicy } from '../../sdk/provisioner.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import type { GpuDevice } from '../gpu.js'
import { freePort, urlHost } from './ports.js'
import { parseImage, registryHostOf, doublyTagged } from './container-image.js'
import { containerName, ensureImage, findRuntime, removeStale, runArgs, runtimeClientEnv, type ContainerNarrate, type ImageInfo } from './container.js'
import { containerCompute, type ContainerCompute } from './container-compute.js'
import { ORC_ERR_CONTAINER_NO_IMAGE, ORC_ERR_CONTAINER_NO_MODEL } from './container-errors.js'

/** Where the model is mounted in the container. */

/** How long a container engine may take to stop before its runtime client is killed. */
export const CONTAINER_STOP_GRACE_MS = 30_000

export const MODEL_MOUNT = '/models'

export interface EngineContext {
  /** The model as the container sees it: `/models/<file>` for a file, `/models` for a directory. */
  modelPath: string
  /** The model on the host (file or directory). */
  hostPath: string
  isDir: boolean
  compute: ContainerCompute
}

export interface ContainerEngine {
  /** Provisioner name and engine (`vllm`). */
  engine: string
  /** How messages name it (`vLLM`). */
  label: string
  /** An image to suggest when none is configured (a hint in the error, never a default). */
  exampleImage: string
  /** Ports the engine listens on in the container; `ports[i]` of the pool publishes the i-th, the first is the API. */
  containerPorts: readonly number[]
  healthPath: string
  /** Flags the provider sets itself (model, host, container port); a pool's `flags` may not repeat them. */
  reservedFlags: readonly string[]
  /** The command after the image (an entrypoint's arguments, or the command for images without one). */
  args (pool: PoolConfig, ctx: EngineContext): string[]
  /** Determinism or engine settings the container gets unless the pool's own `env` sets them. */
  env? (pool: PoolConfig): Record<string, string>
  /** Runtime flags when the container gets more than one GPU (shared memory for NCCL). */
  multiGpuFlags?: readonly string[]
  /** The engine version from the image's own facts, when the image states it. */
  version? (info: ImageInfo): string | null
  /** Refuses a model the engine cannot load (Triton needs a model repository directory). */
  checkModel? (pool: PoolConfig, ctx: EngineContext): void
  /** Says what the engine will do differently from a deterministic setup (Triton's model configs), before the run. */
  notes? (pool: PoolConfig, ctx: EngineContext): Promise<string[]>
}

export interface ContainerProvisionerOptions {
  policy: ProvisioningPolicy
  env?: NodeJS.ProcessEnv
  discover?: () => Promise<GpuDevice[]>
  narrate?: (pool: PoolConfig) => ContainerNarrate
  registerEngine?: (build: EngineBuild) => Promise<string>
}

const OCI_VERSION = 'org.opencontainers.image.version'
const OCI_REVISION = 'org.opencontainers.image.revision'

/**
 * The engine version stamp (spec §2.2: the image digest, with the revision label): the image's
 * version label, else what the engine's image states, else its tag; the revision label, when
 * there is one, as semver build metadata. The digest itself is `PreparedEngine.digest`.
 */
/** Whether `flags` hold `name` (as `name value` or `name=value`). */
export const hasFlag = (flags: readonly string[], ...names: string[]): boolean =>
  flags.some((f) => names.includes(f.split('=')[0]!))

export function imageVersion (info: ImageInfo, tag: string | null, own?: string | null): string {
  const v = info.labels[OCI_VERSION] || own || (tag !== null && !tag.startsWith('sha256:') ? tag : null) || info.digest.slice(0, 19)
  const rev = info.labels[OCI_REVISION]
  return rev ? `${v}+${rev.slice(0, 12)}` : v
}

export function createContainerProvisioner (engine: ContainerEngine, o: ContainerProvisionerOptions): Provisioner {
  const env = o.env ?? process.env
  return {
    name: engine.engine,
    handles: [{ engine: engine.engine, mode: 'container' }],
    plan (pool): Plan {
      const p = pool.provisioning
      const image = p.container?.image
      const ref = image ? parseImage(image, p.container?.tag) : null
      const gpus = p.compute_policy === 'cpu-only' ? 'no GPU flags' : `GPUs ${pool.devices.join(',') || '(those found)'} when present`
      const pin = ref ? (ref.digest ? `digest=${ref.digest}` : `tag=${ref.tag!}`) : ''
      const ports = engine.containerPorts.map((c, i) => `${p.host}:${p.ports?.[i] ?? (i === 0 ? '(free port)' : '-')}->${c}`).join(' ')
      return {
        pool_id: pool.id,
        steps: [
          { kind: 'preflight-tools', detail: 'podman (preferred, rootless) or docker on PATH' },
          { kind: 'compute-policy', detail: `${p.compute_policy}: ${gpus}` },
          {
            kind: 'image-pull',
            detail: ref
              ? `image=${ref.name} ${pin}${ref.defaultedTag ? ' (tag defaulted: not reproducible)' : ''}; ` +
                `skipped when present locally, else gated by policy.allow_outbound_network (registry ${registryHostOf(ref.name)})`
              : 'provisioning.container.image is not set',
          },
          { kind: 'model-fetch', detail: `ref=${p.model?.ref ?? pool.model} via the model provisioner, mounted read-only at ${MODEL_MOUNT}` },
          { kind: 'run', detail: `${engine.label} container ports=${ports} flags=${(p.flags ?? []).join(' ') || '(none)'}` },
        ],
      }
    },
    async prepare (pool, opts = {}): Promise<PreparedEngine> {
      if (!opts.model) throw new ORC_ERR_CONTAINER_NO_MODEL(pool.id, engine.engine)
      const p = pool.provisioning
      if (!p.container?.image) throw new ORC_ERR_CONTAINER_NO_IMAGE(pool.id, engine.engine, engine.exampleImage)
      const narrate = o.narrate?.(pool)
      const image = parseImage(p.container.image, p.container.tag)
      if (image.defaultedTag) {
        narrate?.('prepare', `pool ${pool.id} image ${image.name} has no tag: latest is not reproducible`, { image: image.reference }, 'warn')
      }
      const rt = await findRuntime(pool.id, env)
      narrate?.('preflight', `pool ${pool.id} uses ${rt.version}`.slice(0, 100), { runtime: rt.kind, path: rt.path })
      const st = await stat(opts.model.local_path)
      const isDir = st.isDirectory()
      const compute = await containerCompute(pool, o.discover, narrate)
      const ctx: EngineContext = {
        modelPath: isDir ? MODEL_MOUNT : `${MODEL_MOUNT}/${basename(opts.model.local_path)}`,
        hostPath: opts.model.local_path,
        isDir,
        compute,
      }
      engine.checkModel?.(pool, ctx)
      const info = await ensureImage(rt, image, {
        poolId: pool.id,
        policy: o.policy,
        env,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.progress ? { progress: opts.progress } : {}),
        ...(narrate ? { narrate } : {}),
      })
      narrate?.('prepare', `pool ${pool.id} image ${image.reference} ${info.pulled ? 'pulled' : 'present'}`.slice(0, 100),
        { image: image.reference, digest: info.digest, pulled: info.pulled })
      for (const note of await engine.notes?.(pool, ctx) ?? []) narrate?.('prepare', note.slice(0, 100), { note }, 'warn')

      const host = p.host
      const apiPort = p.ports?.[0] ?? await freePort(host)
      const ports = engine.containerPorts.flatMap((c, i) => {
        const h = i === 0 ? apiPort : p.ports?.[i]
        return h === undefined ? [] : [{ host: h, container: c }]
      })
      const name = containerName(pool.id, apiPort)
      if (await removeStale(rt, name, { env })) narrate?.('prepare', `pool ${pool.id} removed a leftover container ${name}`, { container: name }, 'warn')
      const containerEnv = { ...(engine.env?.(pool) ?? {}), ...(p.env ?? {}) }
      const args = runArgs({
        runtime: rt.kind,
        name,
        poolId: pool.id,
        host,
        ports,
        envKeys: Object.keys(containerEnv),
        mount: { source: isDir ? opts.model.local_path : dirname(opts.model.local_path), target: MODEL_MOUNT },
        gpus: compute.mode === 'gpu' ? compute.devices : null,
        extra: compute.devices.length > 1 ? engine.multiGpuFlags ?? [] : [],
        image: info.runRef,
        engineArgs: engine.args(pool, ctx),
      })
      const version = imageVersion(info, image.tag, engine.version?.(info))
      const catalogId = await o.registerEngine?.({
        engine: engine.engine,
        version,
        build_ref: image.tag,
        digest: info.digest,
        build_flags: null,
        artifacts: [`${image.name}@${info.digest}`],
        compute_mode: compute.mode,
      })
      return {
        engine: engine.engine,
        version,
        build_ref: image.tag,
        digest: info.digest,
        build_flags: null,
        mode: 'container',
        compute_mode: compute.mode,
        binary_path: null,
        engine_catalog_id: catalogId ?? null,
        bin: rt.path,
        args,
        // the CLI's own settings, then the values behind the container's `-e NAME`
        env: { ...runtimeClientEnv(env), ...containerEnv },
        ports: ports.map((x) => x.host),
        workdir: process.cwd(),
        health: { url: `http://${urlHost(host)}:${apiPort}${engine.healthPath}`, kind: engine.engine },
        // the runtime client forwards SIGTERM and waits for the container: killing it early
        // would leave the container running (vLLM and Triton can take many seconds to stop)
        stop_grace_ms: CONTAINER_STOP_GRACE_MS,
      }
    },
  }
}

/**
 * What a container pool asks for that the provider would otherwise ignore or fail on late,
 * found without booting (`ExtensionDescriptor.checkPool`); paths relative to the pool.
 */
export function containerPoolIssues (
  pool: PoolConfig,
  engine: Pick<ContainerEngine, 'engine' | 'exampleImage' | 'containerPorts' | 'reservedFlags'>
): Array<{ path: string, message: string }> {
  const p = pool.provisioning
  const issues: Array<{ path: string, message: string }> = []
  // mode container requires the image by schema rule already; an absent mode defaults to container here
  if (!p.container?.image && (p.mode === undefined || p.mode === null)) {
    issues.push({
      path: '/provisioning/container/image',
      message: `is required: engine ${engine.engine} runs in a container when provisioning.mode is absent; ` +
        `set it (for example ${engine.exampleImage}) and a pinned tag`,
    })
  }
  if (p.container?.image && doublyTagged(p.container.image, p.container.tag)) {
    issues.push({ path: '/provisioning/container/tag', message: `contradicts the tag or digest written into image ${p.container.image}; give it once` })
  }
  const extra = (p.ports?.length ?? 0) - engine.containerPorts.length
  if (extra > 0) {
    issues.push({
      path: `/provisioning/ports/${engine.containerPorts.length}`,
      message: `engine ${engine.engine} listens on ${engine.containerPorts.join(', ')} in its container, one host port each; remove the other ports`,
    })
  }
  for (const [i, f] of (p.flags ?? []).entries()) {
    const name = f.split('=')[0]!
    if (engine.reservedFlags.includes(name)) {
      issues.push({
        path: `/provisioning/flags/${i}`,
        message: `${name} is set by the ${engine.engine} provider ` +
          '(the model comes from the model provisioner, the host port from provisioning.ports); remove it',
      })
    }
  }
  if (Array.isArray(pool.tensor_split)) {
    issues.push({ path: '/tensor_split', message: `cannot be honoured by ${engine.engine} in a container (it shards over its GPUs evenly); remove it` })
  }
  return issues
}
