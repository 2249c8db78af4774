import t from 'tap'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ProvisionProgress } from '../../../sdk/provisioner.js'
import { digestOf, idOf, installFakeRuntime } from '../../../test/fixtures/container-runtime/install.js'
import { parseImage } from '../container-image.js'
import { containerName, ensureImage, findRuntime, gpuFlags, inspectImage, removeStale, runArgs, runtimeClientEnv } from '../container.js'

const OPEN = { allow_outbound_network: true, outbound_allowlist: [] }
const CLOSED = { allow_outbound_network: false, outbound_allowlist: [] }
const REF = 'vllm/vllm-openai:v0.10.1'

t.test('preflight: podman is preferred, docker next; the kind comes from --version; neither names both and how to install', async (t) => {
  const docker = installFakeRuntime('docker')
  const podman = installFakeRuntime('podman')
  t.match(await findRuntime('p', docker.env), { kind: 'docker', path: docker.path, version: 'Docker version 27.3.1, build ce12230' })
  // docker's folder first on PATH, yet podman wins
  const both = { ...docker.env, PATH: `${docker.bin}:${podman.bin}` }
  t.match(await findRuntime('p', both), { kind: 'podman', path: podman.path, version: 'podman version 5.2.2' })
  const empty = await mkdtemp(join(tmpdir(), 'orc-no-rt-'))
  await t.rejects(findRuntime('p', { PATH: empty }), {
    code: 'ORC_ERR_CONTAINER_RUNTIME_MISSING',
    message: /^pool p: no container runtime on PATH: install podman or docker \(to run the engine container; Debian: apt-get install podman, Arch: pacman -S podman\); or start the engine yourself and use provisioning\.mode: external$/,
  })
})

t.test('ensureImage: a local image is used as it is, with no pull and no network gate', async (t) => {
  for (const kind of ['docker', 'podman'] as const) {
    const rt = installFakeRuntime(kind)
    rt.addLocal({ ref: REF, engine: 'vllm', labels: { 'org.opencontainers.image.version': '0.10.1' }, env: { PYTHON_VERSION: '3.12' } })
    const got = await ensureImage(await findRuntime('p', rt.env), parseImage('vllm/vllm-openai', 'v0.10.1'), { poolId: 'p', policy: CLOSED, env: rt.env })
    t.match(got, {
      pulled: false,
      id: `sha256:${idOf(REF)}`,
      digest: digestOf(REF),
      labels: { 'org.opencontainers.image.version': '0.10.1' },
      env: { PYTHON_VERSION: '3.12' },
    }, kind)
    // podman lists the repository digest under docker.io/
    t.equal(got.runRef, `${kind === 'podman' ? 'docker.io/' : ''}vllm/vllm-openai@${digestOf(REF)}`, `${kind} runs by repository digest`)
    t.same(rt.calls().map((c) => c.argv[0]), ['--version', 'image'], `${kind}: inspected, never pulled`)
  }
})

t.test('ensureImage: an absent image passes the outbound gate for its registry, then is pulled with progress', async (t) => {
  const rt = installFakeRuntime('docker')
  rt.addRemote({ ref: REF, engine: 'vllm' })
  const runtime = await findRuntime('p', rt.env)
  const image = parseImage('vllm/vllm-openai', 'v0.10.1')
  await t.rejects(ensureImage(runtime, image, { poolId: 'p', policy: CLOSED, env: rt.env }), {
    code: 'ORC_ERR_CONTAINER_POLICY',
    statusCode: 403,
    message: /^pool p: image vllm\/vllm-openai:v0\.10\.1 needs a download from docker\.io, and policy\.allow_outbound_network is false; .*; or pull the image on this host yourself \(docker pull vllm\/vllm-openai:v0\.10\.1\)/,
  })
  await t.rejects(ensureImage(runtime, image, { poolId: 'p', policy: { allow_outbound_network: true, outbound_allowlist: ['ghcr.io'] }, env: rt.env }),
    { code: 'ORC_ERR_CONTAINER_POLICY', message: /docker\.io, which is not in policy\.outbound_allowlist \(ghcr\.io\)/ })
  t.notOk(rt.calls().some((c) => c.argv[0] === 'pull'), 'refused before any pull')

  const progress: ProvisionProgress[] = []
  const narrated: string[] = []
  const got = await ensureImage(runtime, image, {
    poolId: 'p',
    policy: { allow_outbound_network: true, outbound_allowlist: ['docker.io'] },
    env: rt.env,
    progress: (p) => progress.push(p),
    narrate: (a, h) => narrated.push(`${a}: ${h}`),
  })
  t.match(got, { pulled: true, digest: digestOf(REF) })
  t.same(rt.calls().filter((c) => c.argv[0] === 'pull').map((c) => c.argv), [['pull', REF]])
  t.ok(progress.length >= 3 && progress.every((p) => p.step === 'image-pull'), 'pull output as image-pull progress')
  t.ok(progress.some((p) => p.line === `Digest: ${digestOf(REF)}`))
  t.same(narrated, [`pull: pulls ${REF} with docker`])
  t.equal((await ensureImage(runtime, image, { poolId: 'p', policy: CLOSED, env: rt.env })).pulled, false, 'present after the pull: no gate the second time')
})

t.test('ensureImage: a failed pull, a runtime that cannot reach its daemon, and a digest pin that does not match', async (t) => {
  const rt = installFakeRuntime('docker')
  const runtime = await findRuntime('p', rt.env)
  await t.rejects(ensureImage(runtime, parseImage('vllm/nope', 'v1'), { poolId: 'p', policy: OPEN, env: rt.env }), {
    code: 'ORC_ERR_CONTAINER_PULL',
    message: 'pool p: pulling vllm/nope:v1 failed: Error response from daemon: manifest for vllm/nope:v1 not found: manifest unknown: manifest unknown; ' +
      'check provisioning.container.image and tag, the registry login (podman login / docker login) and the network',
  })
  const pinned = `sha256:${'c'.repeat(64)}`
  rt.addLocal({ ref: REF, engine: 'vllm' })
  // the runtime answers inspect of name@digest with the image whose repository digest differs
  t.equal(await inspectImage(runtime, `vllm/vllm-openai@${pinned}`, 'p', { env: rt.env }), null, 'an unknown digest is absent')
  const local = parseImage('vllm/vllm-openai', 'v0.10.1')
  await t.rejects(ensureImage(runtime, { ...local, digest: pinned }, { poolId: 'p', policy: OPEN, env: rt.env }), {
    code: 'ORC_ERR_CONTAINER_DIGEST',
    message: new RegExp(`^pool p: image vllm/vllm-openai:v0.10.1 does not carry the pinned digest \\(it has ${digestOf(REF)}\\)`),
  })
  rt.set({ daemonDown: true })
  const pulls = rt.calls().filter((c) => c.argv[0] === 'pull').length
  await t.rejects(ensureImage(runtime, local, { poolId: 'p', policy: OPEN, env: rt.env }), {
    code: 'ORC_ERR_CONTAINER_RUNTIME',
    statusCode: 502,
    message: /^pool p: `docker image inspect vllm\/vllm-openai:v0\.10\.1` failed: Cannot connect to the Docker daemon .*; check that the container runtime works/,
  })
  t.equal(rt.calls().filter((c) => c.argv[0] === 'pull').length, pulls, 'a daemon that is down is not taken for an absent image')
})

t.test('pinned by digest: the local image carrying that repository digest is used, with no pull', async (t) => {
  const rt = installFakeRuntime('podman')
  rt.addLocal({ ref: REF, engine: 'vllm' })
  const got = await ensureImage(await findRuntime('p', rt.env), parseImage('vllm/vllm-openai', digestOf(REF)), { poolId: 'p', policy: CLOSED, env: rt.env })
  t.match(got, { pulled: false, digest: digestOf(REF), runRef: `docker.io/vllm/vllm-openai@${digestOf(REF)}` })
  t.same(rt.calls().at(-1)!.argv, ['image', 'inspect', `vllm/vllm-openai@${digestOf(REF)}`])
})

t.test('a broken runtime: --version fails, inspect prints no JSON, a pull that stores nothing, a CLI that is gone', async (t) => {
  const rt = installFakeRuntime('docker')
  rt.set({ versionFails: true })
  await t.rejects(findRuntime('p', rt.env), { code: 'ORC_ERR_CONTAINER_RUNTIME', message: /^pool p: `docker --version` failed: fake: broken installation;/ })
  rt.set({ garbageInspect: true })
  rt.addLocal({ ref: REF, engine: 'vllm' })
  const runtime = await findRuntime('p', rt.env)
  await t.rejects(inspectImage(runtime, REF, 'p', { env: rt.env }), { code: 'ORC_ERR_CONTAINER_RUNTIME', message: /its output is not the expected JSON/ })
  rt.set({ pullForgets: true })
  rt.addRemote({ ref: 'vllm/other:v1', engine: 'vllm' })
  await t.rejects(ensureImage(runtime, parseImage('vllm/other', 'v1'), { poolId: 'p', policy: OPEN, env: rt.env }),
    { code: 'ORC_ERR_CONTAINER_PULL', message: /the runtime does not list the image after the pull/ })
  t.equal(await removeStale({ ...runtime, path: join(rt.dir, 'gone') }, 'x'), false, 'best effort: a failure is no removal')
})

t.test('a locally built image without a repository digest runs by its id', async (t) => {
  const rt = installFakeRuntime('podman')
  rt.addLocal({ ref: 'localhost/my-vllm:dev', engine: 'vllm', repoDigest: false })
  const got = await inspectImage(await findRuntime('p', rt.env), 'localhost/my-vllm:dev', 'p', { env: rt.env })
  t.match(got, { id: `sha256:${idOf('localhost/my-vllm:dev')}`, digest: `sha256:${idOf('localhost/my-vllm:dev')}`, runRef: idOf('localhost/my-vllm:dev') })
})

t.test('run arguments: published ports on the pool host, env by name only, the model read-only, GPU flags per runtime', async (t) => {
  const base = {
    name: containerName('p1', 18000),
    poolId: 'p1',
    host: '127.0.0.1',
    ports: [{ host: 18000, container: 8000 }],
    envKeys: ['HF_TOKEN', 'VLLM_ENABLE_V1_MULTIPROCESSING'],
    mount: { source: '/cache/models/qwen', target: '/models' },
    image: 'vllm/vllm-openai@sha256:abc',
    engineArgs: ['--model', '/models'],
  }
  t.same(runArgs({ ...base, runtime: 'docker', gpus: [0, 1], extra: ['--shm-size', '1g'] }), [
    'run', '--rm', '--name', 'llama-orch-p1-18000', '--label', 'llama-orch.pool=p1', '-p', '127.0.0.1:18000:8000',
    '-e', 'HF_TOKEN', '-e', 'VLLM_ENABLE_V1_MULTIPROCESSING', '-v', '/cache/models/qwen:/models:ro',
    '--gpus', '"device=0,1"', '--shm-size', '1g', 'vllm/vllm-openai@sha256:abc', '--model', '/models',
  ])
  t.same(runArgs({ ...base, runtime: 'podman', gpus: [1] }).slice(12, 16), ['-v', '/cache/models/qwen:/models:ro', '--device', 'nvidia.com/gpu=1'])
  t.same(runArgs({ ...base, runtime: 'docker', host: '::1', gpus: null }).slice(6, 8), ['-p', '[::1]:18000:8000'])
  t.notOk(runArgs({ ...base, runtime: 'docker', gpus: null }).some((a) => a.startsWith('--gpus') || a === '--device'), 'CPU: no GPU flag')
  t.same(gpuFlags('docker', [2]), ['--gpus', 'device=2'])
  t.same(gpuFlags('podman', [0, 3]), ['--device', 'nvidia.com/gpu=0', '--device', 'nvidia.com/gpu=3'])
  t.same(gpuFlags('podman', []), [])
})

t.test('removeStale removes a leftover container of that name only; the runtime client env travels, nothing else', async (t) => {
  const rt = installFakeRuntime('docker')
  const runtime = await findRuntime('p', rt.env)
  t.equal(await removeStale(runtime, 'llama-orch-p-1', { env: rt.env }), false, 'none there')
  const sock = 'unix:///run/user/1000/docker.sock'
  t.same(runtimeClientEnv({ DOCKER_HOST: sock, HF_TOKEN: 'hf_x', PATH: '/bin' }), { DOCKER_HOST: sock })
})
