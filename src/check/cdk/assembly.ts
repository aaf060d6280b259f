/**
 * Reads an AWS CDK cloud assembly (`cdk.out`): its `manifest.json`, the stacks it lists with their
 * environments and dependencies, the nested assemblies of CDK Pipelines stages, and the asset
 * manifests. Only the documented cloud assembly schema is relied on
 * (https://github.com/aws/aws-cdk-cli/tree/main/packages/%40aws-cdk/cloud-assembly-schema, artifact
 * types `aws:cloudformation:stack`, `cdk:cloud-assembly`, `cdk:asset-manifest`; the manifest's
 * JSON schema is `schema/cloud-assembly.schema.json` of that package).
 */
import { readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { partitionOf } from '../../iam/arn.js'
import { CrosspipeError } from '../../model/errors.js'
import { DEFAULT_PARTITION } from '../model.js'

/** One CloudFormation stack of the assembly. */
export interface CdkStack {
  /** The artifact id (unique in its assembly). */
  readonly id: string
  /** The construct path, e.g. `PipelineStack/Prod/Service`. */
  readonly displayName: string
  /** The name the stack is deployed under. */
  readonly stackName: string
  readonly account: string
  readonly region: string
  readonly partition: string
  /** The template file, absolute. */
  readonly templateFile: string
  /** The template file relative to the assembly root, as findings name it. */
  readonly templatePath: string
  /** Template size in bytes. */
  readonly templateBytes: number
  /** Artifact ids of the stacks this one depends on (asset manifests left out). */
  readonly dependencies: readonly string[]
  /** The role `cdk deploy` (or the pipeline) assumes to deploy it. */
  readonly assumeRoleArn?: string
  /** The role CloudFormation deploys it with. */
  readonly cloudFormationExecutionRoleArn?: string
  /** The bootstrap qualifier it expects (from its bootstrap version SSM parameter). */
  readonly qualifier?: string
  /** The nested assembly it is in (`assembly-…` directory), or '' for the top level. */
  readonly assembly: string
  /** The manifest file that lists it, relative to the assembly root. */
  readonly manifestFile: string
}

/** One destination of one asset: where it is published, with which role. */
export interface CdkAssetDestination {
  readonly kind: 'file' | 'image'
  readonly assetId: string
  readonly displayName: string
  readonly account: string
  readonly region: string
  /** The S3 bucket (file assets) or ECR repository (image assets). */
  readonly bucketOrRepository: string
  /** The S3 object key or image tag. */
  readonly key: string
  readonly assumeRoleArn?: string
  /** The asset manifest that lists it, relative to the assembly root. */
  readonly manifestFile: string
}

/** What {@link readCloudAssembly} returns. */
export interface CloudAssembly {
  /** The assembly directory, absolute. */
  readonly dir: string
  readonly stacks: readonly CdkStack[]
  readonly assets: readonly CdkAssetDestination[]
}

type Json = Record<string, unknown>
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Reads the cloud assembly in `dir` and every nested assembly it lists.
 *
 * @throws CrosspipeError `file-not-found` when `dir` has no manifest.json, `invalid-manifest` for
 *   a manifest that is not a cloud assembly or a stack without a concrete account and region.
 */
export function readCloudAssembly(dir: string): CloudAssembly {
  const stacks: CdkStack[] = []
  const assets: CdkAssetDestination[] = []
  readLevel(dir, '', stacks, assets)
  if (stacks.length === 0)
    throw new CrosspipeError(
      'invalid-manifest',
      `${join(dir, 'manifest.json')}: the assembly has no stacks`,
      [
        {
          location: { file: join(dir, 'manifest.json'), path: 'artifacts' },
          message: 'expected at least one artifact of type aws:cloudformation:stack (run `cdk synth` first)',
        },
      ],
    )
  return { dir, stacks, assets }
}

function readJson(file: string, what: string): Json {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CrosspipeError('file-not-found', `${file} does not exist`, [
        { location: { file }, message: `no ${what} here (is this the output directory of \`cdk synth\`?)` },
      ])
    throw e
  }
  try {
    const v: unknown = JSON.parse(text)
    if (isObj(v)) return v
  } catch (e) {
    throw new CrosspipeError('invalid-manifest', `${file}: not valid JSON`, [
      { location: { file }, message: (e as Error).message },
    ])
  }
  throw new CrosspipeError('invalid-manifest', `${file}: not a ${what}`, [
    { location: { file }, message: 'expected a JSON object' },
  ])
}

function readLevel(root: string, sub: string, stacks: CdkStack[], assets: CdkAssetDestination[]): void {
  const dir = join(root, sub)
  const manifestFile = join(dir, 'manifest.json')
  const rel = relative(root, manifestFile)
  const m = readJson(manifestFile, 'cloud assembly manifest')
  const bad = (path: string, message: string): CrosspipeError =>
    new CrosspipeError('invalid-manifest', `${manifestFile}: not a valid cloud assembly manifest`, [
      { location: { file: manifestFile, path }, message },
    ])
  if (typeof m.version !== 'string')
    throw bad('version', 'expected the cloud assembly schema version, a string')
  if (!isObj(m.artifacts)) throw bad('artifacts', 'expected an object of artifacts')
  const artifacts = m.artifacts
  const assetManifests = new Set<string>()
  for (const [id, a] of Object.entries(artifacts)) {
    if (!isObj(a)) throw bad(`artifacts.${id}`, 'expected an object')
    const props = isObj(a.properties) ? a.properties : {}
    switch (a.type) {
      case 'cdk:cloud-assembly': {
        const d = props.directoryName
        if (typeof d !== 'string')
          throw bad(`artifacts.${id}.properties.directoryName`, 'a nested assembly names its directory')
        readLevel(root, join(sub, d), stacks, assets)
        break
      }
      case 'cdk:asset-manifest': {
        const f = props.file
        if (typeof f !== 'string')
          throw bad(`artifacts.${id}.properties.file`, 'an asset manifest names its file')
        assetManifests.add(id)
        readAssets(root, join(sub, f), assets)
        break
      }
      case 'aws:cloudformation:stack': {
        const env = typeof a.environment === 'string' ? a.environment : ''
        const em = /^aws:\/\/(\d{12})\/([a-z0-9-]+)$/.exec(env)
        if (!em)
          throw bad(
            `artifacts.${id}.environment`,
            `stack ${id} has environment "${env}": give it an explicit account and region (env: { account, region }), as CDK Pipelines requires for every stage it deploys`,
          )
        const templateFile = props.templateFile
        if (typeof templateFile !== 'string')
          throw bad(`artifacts.${id}.properties.templateFile`, 'a stack names its template file')
        const file = join(dir, templateFile)
        let bytes: number
        try {
          bytes = statSync(file).size
        } catch {
          throw new CrosspipeError('file-not-found', `${manifestFile}: template ${file} does not exist`, [
            {
              location: { file: manifestFile, path: `artifacts.${id}.properties.templateFile` },
              message: `no such file: ${file}`,
            },
          ])
        }
        const region = em[2]!
        const partition = partitionOf(region) ?? DEFAULT_PARTITION
        const sub2 = (v: unknown): string | undefined =>
          typeof v === 'string' ? v.replaceAll('${AWS::Partition}', partition) : undefined
        const ssm =
          typeof props.bootstrapStackVersionSsmParameter === 'string'
            ? props.bootstrapStackVersionSsmParameter
            : ''
        stacks.push({
          id,
          displayName: typeof a.displayName === 'string' ? a.displayName : id,
          stackName: typeof props.stackName === 'string' ? props.stackName : id,
          account: em[1]!,
          region,
          partition,
          templateFile: file,
          templatePath: relative(root, file),
          templateBytes: bytes,
          dependencies: (Array.isArray(a.dependencies) ? a.dependencies : []).filter(
            (d): d is string => typeof d === 'string',
          ),
          assumeRoleArn: sub2(props.assumeRoleArn),
          cloudFormationExecutionRoleArn: sub2(props.cloudFormationExecutionRoleArn),
          qualifier: /^\/cdk-bootstrap\/([^/]+)\/version$/.exec(ssm)?.[1],
          assembly: sub,
          manifestFile: rel,
        })
        break
      }
      default:
        // Trees, metadata, feature-flag reports: nothing check reasons about.
        break
    }
  }
  // Dependencies on asset manifests say "publish first", not "deploy first".
  for (const s of stacks)
    if (s.assembly === sub)
      (s as { dependencies: readonly string[] }).dependencies = s.dependencies.filter(
        (d) => !assetManifests.has(d),
      )
}

function readAssets(root: string, file: string, out: CdkAssetDestination[]): void {
  const full = join(root, file)
  const m = readJson(full, 'asset manifest')
  for (const kind of ['file', 'image'] as const) {
    const group = m[kind === 'file' ? 'files' : 'dockerImages']
    if (!isObj(group)) continue
    for (const [assetId, asset] of Object.entries(group)) {
      if (!isObj(asset) || !isObj(asset.destinations)) continue
      for (const [destId, d] of Object.entries(asset.destinations)) {
        if (!isObj(d)) continue
        const region = typeof d.region === 'string' ? d.region : ''
        const partition = partitionOf(region) ?? DEFAULT_PARTITION
        const role =
          typeof d.assumeRoleArn === 'string'
            ? d.assumeRoleArn.replaceAll('${AWS::Partition}', partition)
            : undefined
        const account = /^(\d{12})-/.exec(destId)?.[1] ?? /:iam::(\d{12}):/.exec(role ?? '')?.[1] ?? ''
        out.push({
          kind,
          assetId,
          displayName: typeof asset.displayName === 'string' ? asset.displayName : assetId,
          account,
          region,
          bucketOrRepository: String(kind === 'file' ? d.bucketName : d.repositoryName),
          key: String(kind === 'file' ? d.objectKey : d.imageTag),
          assumeRoleArn: role,
          manifestFile: file,
        })
      }
    }
  }
}
