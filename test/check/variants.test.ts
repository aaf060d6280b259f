// The hand-written three-account setup passes with no finding at all; each broken variant
// (fixtures/<name>/, described in fixtures/variants.json) produces exactly its expected finding
// and no other finding.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkManifestFile, renderCheck, toSarif } from '../../src/check/index.js'

const fixtures = join(import.meta.dirname, 'fixtures')
const variants = JSON.parse(readFileSync(join(fixtures, 'variants.json'), 'utf8')) as Record<
  string,
  { expect: string; note: string }
>

test('the correct three-account setup: every call allowed, no finding', async () => {
  const r = await checkManifestFile(join(fixtures, 'good', 'manifest.json'))
  assert.deepEqual(r.findings, [])
  assert.equal(r.ok, true)
  assert.ok(r.calls.length > 30)
  assert.ok(r.calls.every((c) => c.decision === 'Allowed'))
  // The cross-account calls the issue names are all there.
  const has = (stage: string, op: string, principal: RegExp) =>
    r.calls.some((c) => c.stage === stage && c.operation === op && principal.test(c.principal))
  assert.ok(has('(pipeline)', 'sts:AssumeRole', /^codepipeline\.amazonaws\.com$/))
  assert.ok(has('Production', 'sts:AssumeRole', /:111111111111:role\/pipeline-role$/))
  assert.ok(has('Production', 'kms:Decrypt', /:333333333333:role\/cross-account-role$/))
  assert.ok(has('Production', 's3:GetObject', /:333333333333:role\/cross-account-role$/))
  assert.ok(has('Production', 'iam:PassRole', /:333333333333:role\/cross-account-role$/))
  assert.ok(has('Production', 'sts:AssumeRole', /^cloudformation\.amazonaws\.com$/))
  assert.ok(has('Build', 'kms:GenerateDataKey', /BuildRole/))
  // Values unknown before deploy are shown symbolically, the same across stacks.
  const decrypt = r.calls.find((c) => c.operation === 'kms:Decrypt' && c.stage === 'Production')!
  assert.equal(decrypt.resource, 'arn:aws:kms:eu-west-1:111111111111:key/{ci-base.ArtifactKey.KeyId}')
})

for (const [name, v] of Object.entries(variants)) {
  test(`variant ${name}: exactly ${v.expect} (${v.note})`, async () => {
    const r = await checkManifestFile(join(fixtures, name, 'manifest.json'))
    const rules = [...new Set(r.findings.map((f) => f.rule))]
    assert.deepEqual(rules, [v.expect], renderCheck(r, { color: false }))
    const errors = r.findings.filter((f) => f.severity === 'error')
    assert.equal(r.ok, errors.length === 0 && r.calls.every((c) => c.decision === 'Allowed'))
    for (const f of r.findings) {
      assert.ok(f.message.length > 20)
      assert.ok(f.location?.file, `${f.rule} has a location`)
      assert.ok(f.location?.line, `${f.rule} has a line`)
    }
    const sarif = toSarif(r) as any
    assert.equal(sarif.runs[0].results.length, r.findings.length)
  })
}

test('templates may be JSON, and locations are relative to the working directory', async () => {
  const { mkdtempSync, writeFileSync, cpSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { parseTemplate } = await import('../../src/model/cfn-yaml.js')
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-check-json-'))
  try {
    cpSync(join(fixtures, 'good'), dir, { recursive: true })
    // The same key without rotation, written as CloudFormation JSON (long-form intrinsics).
    const body = parseTemplate(readFileSync(join(dir, 'ci-base.yaml'), 'utf8'), 'ci-base.yaml').body as any
    body.Resources.ArtifactKey.Properties.EnableKeyRotation = false
    writeFileSync(join(dir, 'ci-base.json'), JSON.stringify(body, null, 2))
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
    m.stacks[0].template = 'ci-base.json'
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m))
    const r = await checkManifestFile(join(dir, 'manifest.json'))
    assert.deepEqual(
      r.findings.map((f) => f.rule),
      ['key-rotation-off'],
    )
    assert.equal(r.findings[0]!.location?.file, join(dir, 'ci-base.json'))
    assert.ok((r.findings[0]!.location?.line ?? 0) > 1)
    assert.ok(r.calls.every((c) => c.decision === 'Allowed'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const r = await checkManifestFile(join(fixtures, 'key-rotation-off', 'manifest.json'))
  assert.equal(r.findings[0]!.location?.file, 'test/check/fixtures/key-rotation-off/ci-base.yaml')
})

test('the reference description, written out: check finds what DESIGN.md says it gets wrong, and more', async () => {
  const r = await checkManifestFile(join(fixtures, 'reference', 'manifest.json'))
  assert.equal(r.ok, false)
  const found = r.findings.map((f) => `${f.rule} ${f.stack}/${f.logicalId}`)
  assert.deepEqual(found, [
    // The bucket policy names the dev roles, which the dev stack (phase 2) creates later.
    'principal-not-yet-created ci/S3ArtifactBucketPolicy',
    'principal-not-yet-created ci/S3ArtifactBucketPolicy',
    // s3:* to the dev roles; cloudformation:*, codebuild:*, s3:* for a role the CI account assumes.
    'wildcard-cross-account ci/S3ArtifactBucketPolicy',
    'wildcard-cross-account dev/CrossAccountPolicy',
    'passrole-unrestricted dev/CrossAccountPolicy',
    // The deployment role may do anything (AdministratorAccess): whoever starts the pipeline owns dev.
    'admin-equivalent-role dev/CloudFormationRole',
    // EncryptionKey Id: !Ref KMSKey is the key id: the dev account would look it up in itself.
    'artifact-key-not-arn ci/CodePipeline',
    'trust-unconditioned dev/CrossAccountRole',
    'bucket-insecure-transport ci/S3ArtifactBucketPolicy',
    'bucket-unencrypted-uploads ci/S3ArtifactBucketPolicy',
  ])
  // The key is named by id, but only the CI account writes artifacts: S3 decrypts with the key the
  // writer recorded in the object, so the dev role's read is evaluated against the CI key (issue 10
  // class 3) and allowed by its key policy; the finding is a warning, as no cross-account action
  // writes yet.
  assert.deepEqual(
    r.calls.filter((c) => c.decision !== 'Allowed'),
    [],
  )
  const decrypt = r.calls.find((c) => c.operation === 'kms:Decrypt' && c.principal.includes('222222222222'))
  assert.equal(decrypt?.resource, 'arn:aws:kms:eu-west-1:111111111111:key/{ci.KMSKey.KeyId}')
  assert.equal(r.findings.find((f) => f.rule === 'artifact-key-not-arn')?.severity, 'warning')
})
