import t from 'tap'
import { createContractRegistry } from '../../metrics/registry.js'
import { createPoolRegistry } from '../registry.js'
import { describeGpus, missingDevices } from '../gpu.js'
import { sampleGpus, startGpuSampler } from '../observe.js'

const MIB = 1024 * 1024
const nvidia = (over = {}) => ({ vendor: 'NVIDIA', model: 'NVIDIA GeForce RTX 4090', bus: 'PCI', vram: 24_564, vramDynamic: false, memoryTotal: 24_564, memoryUsed: 2_000, memoryFree: 22_564, utilizationGpu: 37, ...over })

t.test('GPU discovery reads systeminformation: model and VRAM per device, display adapters skipped (ORCH-3506)', async (t) => {
  const { discoverGpus } = await t.mockImport<typeof import('../gpu.js')>('../gpu.js', {
    systeminformation: { default: { graphics: async () => ({ controllers: [{ vendor: 'Cirrus Logic', model: 'GD 5446', bus: 'PCI', vram: 16, vramDynamic: false }, nvidia(), nvidia({ model: 'RTX A2000', memoryTotal: undefined, memoryUsed: undefined, memoryFree: undefined, utilizationGpu: undefined, vram: 12_288 })] }) } },
  })
  const gpus = await discoverGpus()
  t.same(gpus, [
    { id: 0, vendor: 'NVIDIA', model: 'NVIDIA GeForce RTX 4090', vram_total_bytes: 24_564 * MIB, vram_free_bytes: 22_564 * MIB, vram_used_bytes: 2_000 * MIB, utilization: 37 },
    { id: 1, vendor: 'NVIDIA', model: 'RTX A2000', vram_total_bytes: 12_288 * MIB, vram_free_bytes: null, vram_used_bytes: null, utilization: null },
  ])
  t.same(missingDevices([0, 1, 2], gpus), [2])
  t.equal(describeGpus(gpus), '0: NVIDIA GeForce RTX 4090 (24.0 GiB, 22.0 GiB free); 1: RTX A2000 (12.0 GiB)')
  t.equal(describeGpus([]), 'no GPU')
  const used = await discoverGpus(async () => ({ controllers: [nvidia({ memoryFree: undefined })] }))
  t.equal(used[0]!.vram_free_bytes, 22_564 * MIB, 'free is derived from total − used')
})

t.test('a host without GPUs, or a failing probe, discovers nothing instead of failing (§1.9)', async (t) => {
  const { discoverGpus } = await t.mockImport<typeof import('../gpu.js')>('../gpu.js', {
    systeminformation: { default: { graphics: async () => { throw new Error('nvidia-smi: not found') } } },
  })
  t.same(await discoverGpus(), [])
  t.same(await discoverGpus(async () => ({ controllers: [] })), [])
})

t.test('gpu_utilization and vram_used_bytes are set per device of GPU pools only; VRAM totals reach the registry', async (t) => {
  const { registry: prom, metrics } = createContractRegistry([50, 100])
  const reg = createPoolRegistry()
  reg.upsert('g', { compute_mode: 'gpu', engine: 'llamacpp', engine_version: 'v1', device_mask: [1] })
  reg.upsert('c', { compute_mode: 'cpu', engine: 'llamacpp', engine_version: 'v1' })
  const discover = async () => [
    { id: 0, vendor: 'NVIDIA', model: 'a', vram_total_bytes: 10, vram_free_bytes: 4, vram_used_bytes: 6, utilization: 10 },
    { id: 1, vendor: 'NVIDIA', model: 'b', vram_total_bytes: 20, vram_free_bytes: 5, vram_used_bytes: 15, utilization: 90 },
  ]
  await sampleGpus(reg, { ...metrics, registry: prom }, discover)
  const text = await prom.metrics()
  t.match(text, 'gpu_utilization{engine="llamacpp",engine_version="v1",pool_id="g",replica_id="g-r0",device="1"} 90')
  t.match(text, 'vram_used_bytes{engine="llamacpp",engine_version="v1",pool_id="g",replica_id="g-r0",device="1"} 15')
  t.notMatch(text, 'device="0"', 'devices outside the mask are not reported')
  t.notMatch(text, 'pool_id="c"', 'CPU pools get no GPU samples')
  t.match(reg.get('g'), { vram_total_bytes: 20, vram_free_bytes: 5 })
  const none = createPoolRegistry()
  none.upsert('c', { compute_mode: 'cpu' })
  let called = false
  await sampleGpus(none, { ...metrics, registry: prom }, async () => { called = true; return [] })
  t.notOk(called, 'no discovery at all without a GPU pool')
  const stop = startGpuSampler(reg, { ...metrics, registry: prom }, discover, 10)
  await new Promise((r) => setTimeout(r, 40))
  stop()
})
