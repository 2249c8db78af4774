import t from 'tap'
import { doublyTagged, parseImage, registryHostOf, sameRepository } from '../container-image.js'

const D = `sha256:${'a'.repeat(64)}`
const E = `sha256:${'b'.repeat(64)}`

t.test('an image reference: tag or digest, from `image` or `tag`, and the registry the gate asks about', async (t) => {
  t.same(parseImage('vllm/vllm-openai', 'v0.10.1'), {
    name: 'vllm/vllm-openai', registry: 'docker.io', tag: 'v0.10.1', digest: null, defaultedTag: false, reference: 'vllm/vllm-openai:v0.10.1',
  })
  t.match(parseImage('vllm/vllm-openai'), { tag: 'latest', defaultedTag: true, reference: 'vllm/vllm-openai:latest' }, 'no tag: latest, said to be defaulted')
  t.match(parseImage('vllm/vllm-openai:v0.9.0'), { tag: 'v0.9.0', defaultedTag: false, reference: 'vllm/vllm-openai:v0.9.0' }, 'the tag inside image')
  t.match(parseImage('vllm/vllm-openai:v0.9.0', 'v0.10.1'), { tag: 'v0.10.1' }, 'container.tag wins over the one in image')
  t.match(parseImage('vllm/vllm-openai', D), { tag: null, digest: D, defaultedTag: false, reference: `vllm/vllm-openai@${D}` },
    'a digest as tag pins by digest')
  const tgi = `ghcr.io/huggingface/text-generation-inference@${D}`
  t.match(parseImage(tgi), { registry: 'ghcr.io', digest: D, reference: tgi })
  t.match(parseImage('localhost:5000/tgi'), { name: 'localhost:5000/tgi', registry: 'localhost', tag: 'latest' }, 'a registry port is no tag')
})

t.test('registry host: docker.io unless the first segment has a dot, a port or is localhost', async (t) => {
  t.equal(registryHostOf('ubuntu'), 'docker.io')
  t.equal(registryHostOf('vllm/vllm-openai'), 'docker.io')
  t.equal(registryHostOf('nvcr.io/nvidia/tritonserver'), 'nvcr.io')
  t.equal(registryHostOf('registry.example.com:5000/x/y'), 'registry.example.com')
  t.equal(registryHostOf('[::1]:5000/x'), '::1')
  t.equal(registryHostOf('localhost/x'), 'localhost')
})

t.test('docker.io, library/ and the bare name are one repository; a tag given twice must agree', async (t) => {
  t.ok(sameRepository('docker.io/library/ubuntu', 'ubuntu'))
  t.ok(sameRepository('docker.io/vllm/vllm-openai', 'vllm/vllm-openai'))
  t.notOk(sameRepository('ghcr.io/vllm/vllm-openai', 'vllm/vllm-openai'))
  t.notOk(doublyTagged('x/y', 'v1'))
  t.notOk(doublyTagged('x/y:v1', 'v1'))
  t.ok(doublyTagged('x/y:v1', 'v2'))
  t.notOk(doublyTagged(`x/y@${D}`, D))
  t.ok(doublyTagged(`x/y@${D}`, E))
  t.notOk(doublyTagged('x/y:v1', null))
})
