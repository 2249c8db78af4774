/**
 * `llama-orch/sdk`: the public contract of llama-orch for its extensions (adapters and
 * provisioners, built in or installed from npm) and for anyone building on its API. It
 * imports nothing of the server: only typebox and Fastify's types.
 */
import type { AdapterHost, AdapterRegistry } from './adapter.js'
import type { Narrator } from './narration.js'
import type { ProvisionerRegistry } from './provisioner.js'

export { EXTENSION_API, type ExtensionKind, type ExtensionDescriptor } from './extension.js'
export { TaskRequest, TaskSubmission, TASK_DEFAULTS, type Workload, type Priority } from './task.js'
export type {
  WorkerErrorKind, WorkerHealth, WorkerProps, WorkerErrorData, StartedData, EndData, TokenEvent, CallOpts, SubmitOpts, WorkerAdapter,
  CapabilitySnapshot, EngineMetricsSnapshot, AdapterBinding, AdapterFactory, AdapterRegistry, EngineCapability, ReplicaStatus, AdapterHost,
} from './adapter.js'
export { Sampling, ResponseFormat, SAMPLING_PARAMS, samplingParams, withoutEffect, type SamplingParam } from './sampling.js'
export type {
  ProvisioningMode, PlanStep, Plan, PreparedEngine, Provisioner, EngineBuild, ProvisionerRegistry, ProvisionProgress, PrepareOptions, ProvisioningPolicy,
} from './provisioner.js'
export { PoolConfig, ProvisioningConfig, type ComputePolicy } from './pool-config.js'
export { API_VERSION, ERROR_KINDS, ApiError, retryAfterSeconds, type ErrorKind, type ErrorEnvelope, type ApiErrorOptions } from './api.js'
export type { Actor, Action, NarrationFields, NarrationLevel, Narrator } from './narration.js'
export { REDACTED, redactString, redactValue } from './redact.js'
export { Nullable, Strict, UInt32, Millis, Uuid } from './schema-helpers.js'
// The error mapping table and determinism helpers every adapter shares (spec adapters §1.4, §1.7).
export {
  UPSTREAM_CONDITIONS, PUBLIC_ERROR_KIND, WORKER_MESSAGE_MAX, workerError, workerMessage, endedWithoutTerminal, conditionForStatus, conditionForTransport,
  type UpstreamCondition, type PublicWorkerErrorKind, type ErrorHint, type WorkerErrorExtra,
} from './worker-errors.js'
export {
  SAMPLER_PROFILES, DEFAULT_SAMPLER_PROFILE, SEED_MAX, deriveSeed, determinismOf, isKnownProfile,
  type Determinism, type DeterminismPool, type SamplerProfile,
} from './determinism.js'

/** The decorators an extension reaches the server through (declared here so extensions get them typed). */
declare module 'fastify' {
  interface FastifyInstance {
    narration: Narrator
    adapters: AdapterRegistry
    adapterHost: AdapterHost
    provisioners: ProvisionerRegistry
  }
}
