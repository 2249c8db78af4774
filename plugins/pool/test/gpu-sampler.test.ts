import t from 'tap'
import { createContractRegistry } from '../../metrics/registry.js'
import { createPoolRegistry } from '../registry.js'
import { sampleGpus, startGpuSampler } from '../observe.js'

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
  await new Promise((resolve) => setTimeout(resolve, 40))
  stop()
})
