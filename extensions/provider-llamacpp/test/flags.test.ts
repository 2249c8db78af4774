import t from 'tap'
import { ccacheFlags, cpuFlags, mapFlags, wantsCuda } from '../cmake-flags.js'
import { launchArgs, normaliseFlags } from '../run-flags.js'
import { firstCmakeError } from '../build.js'

t.test('cmake flag mapping: LLAMA_CUBLAS becomes GGML_CUDA (spec pools §2.4 step 4)', async (t) => {
  t.same(mapFlags(['-DLLAMA_CUBLAS=ON', '-DCMAKE_CUDA_ARCHITECTURES=86']), ['-DCMAKE_CUDA_ARCHITECTURES=86', '-DGGML_CUDA=ON'])
  t.same(mapFlags(['-DLLAMA_CUBLAS=ON', '-DGGML_CUDA=OFF']), ['-DGGML_CUDA=OFF'], 'an explicit GGML_CUDA wins')
  t.same(mapFlags(['-DLLAMA_CUBLAS=OFF']), [], 'an off legacy flag adds nothing')
  t.same(mapFlags(['-DGGML_NATIVE=OFF']), ['-DGGML_NATIVE=OFF'])
})

t.test('wantsCuda reads the last GGML_CUDA setting; cpuFlags drops every CUDA flag (step 7b)', async (t) => {
  t.equal(wantsCuda(['-DGGML_CUDA=ON']), true)
  t.equal(wantsCuda(['-DGGML_CUDA=ON', '-DGGML_CUDA=OFF']), false)
  t.equal(wantsCuda(['-DGGML_CUDA:BOOL=1']), true)
  t.equal(wantsCuda(['-DGGML_VULKAN=ON']), false)
  t.same(cpuFlags(['-DGGML_NATIVE=OFF', '-DGGML_CUDA=ON', '-DCMAKE_CUDA_ARCHITECTURES=86']), ['-DGGML_NATIVE=OFF', '-DGGML_CUDA=OFF'])
  t.same(ccacheFlags(false), ['-DCMAKE_C_COMPILER_LAUNCHER=ccache', '-DCMAKE_CXX_COMPILER_LAUNCHER=ccache'], 'ORCH-3431')
  t.equal(ccacheFlags(true).at(-1), '-DCMAKE_CUDA_COMPILER_LAUNCHER=ccache')
})

t.test('runtime flag normalisation (ORCH-3605, spec pools §2.4 example)', async (t) => {
  t.same(normaliseFlags(['--ngl', '35', '--metrics'], 'gpu'), ['--n-gpu-layers', '35', '--metrics'])
  t.same(normaliseFlags(['--ngl', '35', '--metrics'], 'cpu'), ['--metrics', '--n-gpu-layers', '0'])
  t.same(normaliseFlags(['-ngl', '--metrics'], 'gpu'), ['--metrics'], 'a pair missing its value is dropped')
  t.same(normaliseFlags(['--gpu-layers', '10', '--n-gpu-layers', '20'], 'gpu'), ['--n-gpu-layers', '10', '--n-gpu-layers', '20'])
  t.same(normaliseFlags(['--threads', '2'], 'gpu'), ['--threads', '2'], 'GPU mode with no layer flag is left as is')
})

t.test('launch args: model, address, alias, then the flags the orchestrator relies on unless the pool set them', async (t) => {
  const base = {
    binary: '/b/llama-server',
    model: '/m/tiny.gguf',
    alias: 'tiny',
    host: '127.0.0.1',
    port: 9000,
    compute: 'cpu' as const,
    ctx: null,
    slots: 1,
    deterministic: true,
  }
  t.same(launchArgs({ ...base, flags: [] }), [
    '--model', '/m/tiny.gguf', '--host', '127.0.0.1', '--port', '9000', '--alias', 'tiny',
    '--n-gpu-layers', '0', '--metrics', '--jinja', '--no-webui', '--parallel', '1', '--no-cont-batching',
  ])
  const own = launchArgs({ ...base, flags: ['--metrics', '--no-jinja', '--parallel', '4', '--cont-batching'], ctx: 4096, slots: 4, deterministic: false })
  t.same(own.slice(8), ['--metrics', '--no-jinja', '--parallel', '4', '--cont-batching', '--n-gpu-layers', '0', '--no-webui', '--ctx-size', '4096'])
  t.same(launchArgs({ ...base, flags: [], slots: 2, deterministic: false }).slice(-2), ['--parallel', '2'], 'two slots: continuous batching stays on')
  const split = launchArgs({ ...base, compute: 'gpu', flags: [], tensorSplit: [3, 1] })
  const at = split.indexOf('--tensor-split')
  t.same(split.slice(at, at + 2), ['--tensor-split', '3,1'], 'pools[].tensor_split reaches llama-server')
  t.notOk(launchArgs({ ...base, flags: [], tensorSplit: [3, 1] }).includes('--tensor-split'), 'a CPU build has no devices to split over')
})

t.test('a failed configure is reported in cmake\'s own words: the first CMake Error and what follows it', async (t) => {
  const tail = [
    '-- Including CUDA backend',
    'CMake Error at ggml/src/ggml-cuda/CMakeLists.txt:165 (target_link_libraries):',
    '  Target "ggml-cuda" links to:',
    '',
    '    CUDA::cublas',
    '',
    '  but the target was not found.',
    'CMake Error at other.txt:1 (x):',
  ].join('\n')
  t.equal(firstCmakeError(tail), 'CMake Error at ggml/src/ggml-cuda/CMakeLists.txt:165 (target_link_libraries): Target "ggml-cuda" links to: CUDA::cublas')
  t.equal(firstCmakeError('-- all fine\n-- Generating done'), '')
})
