import t from 'tap'
import { adapterConformance } from '../../../test/helpers/adapter-conformance.js'
import { openaiResponsesTarget, openaiTarget } from '../../../test/helpers/conformance-targets.js'

adapterConformance(t, openaiTarget)
t.test('the Responses API', async (t) => { adapterConformance(t, openaiResponsesTarget) })
