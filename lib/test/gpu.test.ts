import t from 'tap'
import { describeGpus, missingDevices } from '../gpu.js'

const MIB = 1024 * 1024
const nvidia = (over = {}) => ({
  vendor: 'NVIDIA',
  model: 'NVIDIA GeForce RTX 4090',
  bus: 'PCI',
  vram: 24_564,
  vramDynamic: false,
  memoryTotal: 24_564,
  memoryUsed: 2_000,
  memoryFree: 22_564,
  utilizationGpu: 37,
  ...over,
})

t.test('GPU discovery reads systeminformation: model and VRAM per device, display adapters skipped (ORCH-3506)', async (t) => {
  const { discoverGpus } = await t.mockImport<typeof import('../gpu.js')>('../gpu.js', {
    systeminformation: {
      default: {
        graphics: async () => ({
          controllers: [
            { vendor: 'Cirrus Logic', model: 'GD 5446', bus: 'PCI', vram: 16, vramDynamic: false },
            nvidia(),
            nvidia({ model: 'RTX A2000', memoryTotal: undefined, memoryUsed: undefined, memoryFree: undefined, utilizationGpu: undefined, vram: 12_288 }),
          ],
        }),
      },
    },
  })
  const gpus = await discoverGpus()
  t.same(gpus, [
    {
      id: 0,
      vendor: 'NVIDIA',
      model: 'NVIDIA GeForce RTX 4090',
      vram_total_bytes: 24_564 * MIB,
      vram_free_bytes: 22_564 * MIB,
      vram_used_bytes: 2_000 * MIB,
      utilization: 37,
    },
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
