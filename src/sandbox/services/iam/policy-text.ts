/**
 * Shape checks for policy documents sent to IAM, so that a document IAM would refuse is refused
 * with `MalformedPolicyDocument` and the wording IAM uses. Deciding what a policy *allows* is the
 * IAM engine's job (src/iam); this only checks that the text is a policy of the right kind.
 * Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */
import { validatePolicy } from '../../../iam/index.js'
import type { PolicyDocument } from '../../../iam/types.js'
import { malformedPolicy } from './errors.js'

/** Identity policies name no principal; trust (resource) policies must. */
export type PolicyKind = 'identity' | 'trust'

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v]
}

/** Parses and checks a policy document; throws MalformedPolicyDocument. */
export function checkPolicyText(text: string, kind: PolicyKind): PolicyDocument {
  if (text.length > 131072) throw malformedPolicy('Cannot exceed quota for PolicySize: 131072')
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw malformedPolicy('Syntax errors in policy.')
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw malformedPolicy('Syntax errors in policy.')
  const d = doc as Record<string, unknown>
  for (const k of Object.keys(d))
    if (!['Version', 'Id', 'Statement'].includes(k)) throw malformedPolicy(`Syntax errors in policy.`)
  if (d['Version'] !== undefined && d['Version'] !== '2012-10-17' && d['Version'] !== '2008-10-17')
    throw malformedPolicy('The policy failed legacy parsing')
  const statements = asList(d['Statement'])
  if (statements.length === 0) throw malformedPolicy('Syntax errors in policy.')
  for (const s of statements) {
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw malformedPolicy('Syntax errors in policy.')
    const st = s as Record<string, unknown>
    if (st['Effect'] !== 'Allow' && st['Effect'] !== 'Deny')
      throw malformedPolicy(
        st['Effect'] === undefined
          ? 'Missing required field Effect'
          : `Invalid effect: ${JSON.stringify(st['Effect'])}`,
      )
    if (st['Action'] === undefined && st['NotAction'] === undefined)
      throw malformedPolicy('Policy statement must contain actions.')
    const hasPrincipal = st['Principal'] !== undefined || st['NotPrincipal'] !== undefined
    if (kind === 'identity') {
      if (hasPrincipal) throw malformedPolicy('Policy document should not specify a principal.')
      if (st['Resource'] === undefined && st['NotResource'] === undefined)
        throw malformedPolicy('Policy statement must contain resources.')
    } else {
      if (!hasPrincipal) throw malformedPolicy('Missing required field Principal')
      if (st['Resource'] !== undefined || st['NotResource'] !== undefined)
        throw malformedPolicy('Has prohibited field Resource')
      for (const a of asList(st['Action'] ?? st['NotAction']))
        if (typeof a !== 'string' || !/^(sts:[\w*?]+|\*)$/i.test(a))
          throw malformedPolicy('AssumeRole policy may only specify STS AssumeRole actions.')
    }
    for (const field of ['Action', 'NotAction'])
      for (const a of asList(st[field]))
        if (typeof a !== 'string' || (a !== '*' && !/^[a-z0-9-]+:[\w*?-]+$/i.test(a)))
          throw malformedPolicy(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`)
  }
  // Everything else (condition operators, ARN and principal forms…) the engine validates, so what
  // IAM accepts here is exactly what the engine can evaluate.
  const problems = validatePolicy(doc, kind)
  if (problems.length > 0) throw malformedPolicy(problems.map((x) => `${x.element}: ${x.message}`).join('; '))
  return doc as PolicyDocument
}
