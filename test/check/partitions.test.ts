// `check` in China: the kms:ViaService value S3 sets there is s3.<region>.amazonaws.com.cn, the
// same host AWS::URLSuffix builds in a template and the sandbox's S3 sends (src/iam/aws-facts.ts).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkSetup, renderCheck } from '../../src/check/index.js'
import { goodSetup, props } from './helpers.js'

/** The good setup moved to cn-north-1, its artifact key usable by the targets only through S3. */
function chinaSetup(viaService: unknown): ReturnType<typeof goodSetup> {
  const s = goodSetup()
  for (const stack of s.manifest.stacks) (stack as { region: string }).region = 'cn-north-1'
  const targets = props(s, 'ci-base.yaml', 'ArtifactKey').KeyPolicy.Statement[1]
  assert.equal(targets.Sid, 'TargetAccountsUse')
  targets.Condition.StringEquals = { 'kms:ViaService': viaService }
  return s
}

test('a key usable only through S3 in China: check passes with the China endpoint', () => {
  const r = checkSetup(chinaSetup({ 'Fn::Sub': 's3.${AWS::Region}.${AWS::URLSuffix}' }))
  assert.equal(r.ok, true, renderCheck(r, { color: false }))
  assert.ok(
    r.calls.some(
      (c) => c.operation === 'kms:Decrypt' && c.principal.startsWith('arn:aws-cn:iam::222222222222:'),
    ),
  )
})

test("… and denies the targets' decrypt when the policy names the commercial endpoint", () => {
  const r = checkSetup(chinaSetup('s3.cn-north-1.amazonaws.com'))
  assert.equal(r.ok, false)
  const denied = r.findings.filter((f) => f.rule === 'call-denied')
  assert.ok(denied.length > 0, renderCheck(r, { color: false }))
  assert.ok(
    denied.every((f) => /kms:Decrypt/.test(f.message)),
    renderCheck(r, { color: false }),
  )
})
