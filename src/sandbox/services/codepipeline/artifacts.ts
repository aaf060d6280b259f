/**
 * Artifacts in the artifact store, read and written as the acting role through the sandbox's S3
 * handler — so the bucket policy, the role's identity policy and the store key's policy decide,
 * as on AWS (https://docs.aws.amazon.com/codepipeline/latest/userguide/S3-artifact-encryption.html).
 */
import { randomBytes } from 'node:crypto'
import { formatArn } from '../../../iam/arn.js'
import { AwsError } from '../../errors.js'
import type { Runtime } from '../../runtime.js'
import { callRest, type Acting } from '../../internal/client.js'
import type { ArtifactRef, ArtifactStore, PipelineDeclaration } from './store.js'

/** An action's failure, with the details GetPipelineState and ListActionExecutions report. */
export class ActionFailure extends Error {
  constructor(
    message: string,
    readonly code = 'JobFailed',
  ) {
    super(message)
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/**
 * The object key of a new artifact: `<pipeline name, first 20 characters>/<artifact name, first
 * 10 characters>/<7 random characters>` — the layout of the artifact folders CodePipeline creates
 * "based on the name of the pipeline" (API_ArtifactStore.html), whose names appear truncated
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/troubleshooting.html).
 */
export function artifactKey(pipelineName: string, artifactName: string): string {
  const b = randomBytes(7)
  let r = ''
  for (let i = 0; i < 7; i++) r += ALNUM[b[i]! % ALNUM.length]
  return `${pipelineName.slice(0, 20)}/${artifactName.slice(0, 10)}/${r}`
}

/** The artifact store of a region (artifactStores) or the pipeline's single store. */
export function storeFor(d: PipelineDeclaration, region: string): ArtifactStore {
  const s = d.artifactStores?.[region] ?? d.artifactStore
  if (!s) throw new ActionFailure(`The pipeline has no artifact store in ${region}`)
  return s
}

/**
 * The sentence CodePipeline gives when the acting role cannot use the artifact store, with S3's
 * (or KMS's, through S3) error as the underlying error.
 */
export function storeError(e: unknown, bucket: string, key: string, op: 'read' | 'write'): ActionFailure {
  if (e instanceof AwsError) {
    const underlying = `Underlying error: ${e.message} (Service: Amazon S3; Status Code: ${e.status}; Error Code: ${e.code})`
    if (e.status === 403)
      return new ActionFailure(
        `Insufficient permissions The provided role does not have permissions to perform this action on s3://${bucket}/${key}. ${underlying}`,
      )
    return new ActionFailure(`Could not ${op} the artifact s3://${bucket}/${key}. ${underlying}`)
  }
  return new ActionFailure(e instanceof Error ? e.message : String(e))
}

/**
 * The store key as the acting role names it. A key ID (or alias) is resolved in the acting
 * role's account: "Cross-account actions involve using the role from the other account
 * (AccountB), so specifying the key ID will use the key from the other account (AccountB)"
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_EncryptionKey.html).
 */
export function storeKeyFor(runtime: Runtime, id: string, as: Acting): string {
  if (id.startsWith('arn:')) return id
  return formatArn({
    partition: runtime.partition(as.region),
    service: 'kms',
    region: as.region,
    account: as.identity.account,
    resource: id.startsWith('alias/') ? id : `key/${id}`,
  })
}

/** Reads an artifact's object as `as`. */
export async function readArtifact(runtime: Runtime, as: Acting, ref: ArtifactRef): Promise<Buffer> {
  try {
    const res = await callRest(runtime, as, 's3', { method: 'GET', path: `/${ref.bucket}/${ref.key}` })
    return typeof res.body === 'string' ? Buffer.from(res.body) : (res.body ?? Buffer.alloc(0))
  } catch (e) {
    throw storeError(e, ref.bucket, ref.key, 'read')
  }
}

/**
 * Writes an artifact as `as`, SSE-KMS with the store's key — or, when the store names none,
 * S3's default key `aws/s3` (API_ArtifactStore.html, encryptionKey).
 */
export async function writeArtifact(
  runtime: Runtime,
  as: Acting,
  store: ArtifactStore,
  key: string,
  body: Buffer,
): Promise<string | undefined> {
  const headers: Record<string, string> = {
    'x-amz-server-side-encryption': 'aws:kms',
    'content-type': 'application/zip',
    'content-length': String(body.length),
  }
  if (store.encryptionKey)
    headers['x-amz-server-side-encryption-aws-kms-key-id'] = storeKeyFor(runtime, store.encryptionKey.id, as)
  try {
    const res = await callRest(runtime, as, 's3', {
      method: 'PUT',
      path: `/${store.location}/${key}`,
      headers,
      body,
    })
    return res.headers?.['x-amz-version-id']
  } catch (e) {
    throw storeError(e, store.location, key, 'write')
  }
}
