// The kit is what every built-in adapter's streaming is made of: it must pass the whole suite
// on two protocols (llama.cpp native, OpenAI-compatible).
import t from 'tap'
import { adapterConformance } from '../../../test/helpers/adapter-conformance.js'
import { llamacppTarget, vllmTarget } from '../../../test/helpers/conformance-targets.js'

t.test('llama.cpp protocol', async (t) => { adapterConformance(t, llamacppTarget) })
t.test('OpenAI-compatible protocol', async (t) => { adapterConformance(t, vllmTarget) })
