import t from 'tap'
import { adapterConformance } from '../../../test/helpers/adapter-conformance.js'
import { llamacppTarget } from '../../../test/helpers/conformance-targets.js'

adapterConformance(t, llamacppTarget)
