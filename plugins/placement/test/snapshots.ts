import type { JobSpec, PoolSnapshot } from '../placement.js'

/** A Ready llama.cpp pool serving m0 with room to spare; `extra` changes what a test looks at. */
export const pool = (id: string, extra: Partial<PoolSnapshot> = {}): PoolSnapshot => ({
  id,
  engine: 'llamacpp',
  modelId: 'm0',
  live: true,
  ready: true,
  draining: false,
  slotsTotal: 4,
  slotsFree: 4,
  vramTotalBytes: 16e9,
  vramFreeBytes: 8e9,
  ctxMax: 8192,
  queueLen: 0,
  deviceMask: [0],
  ...extra,
})

export const job: JobSpec = { engine: 'llamacpp', modelId: 'm0', requiredCtx: 2048, priority: 'interactive' }
