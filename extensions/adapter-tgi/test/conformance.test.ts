import t from 'tap'
import { adapterConformance } from '../../../test/helpers/adapter-conformance.js'
import { tgiTarget } from '../../../test/helpers/conformance-targets.js'

adapterConformance(t, tgiTarget)
