/**
 * The sandbox's shared state: the database, the body store, accounts and credentials, and the
 * services. One Runtime per running sandbox; services reach each other's internal contracts
 * through it (`internal(name)`, typed by internal/contracts.ts: S3 asks KMS for data keys on
 * behalf of its caller), and CloudFormation finds every service's resource providers on it.
 */
import { join } from 'node:path'
import { partitionOf } from '../iam/arn.js'
import { CrosspipeError } from '../model/errors.js'
import type { CredentialRecord } from './auth/identity.js'
import { ProviderRegistry } from './cfn-providers.js'
import type { Internals } from './internal/contracts.js'
import { DEFAULT_PARTITION } from './config.js'
import { secretKey, uniqueId } from './ids.js'
import { IamStore } from './services/iam/store.js'
import type { Service } from './services/types.js'
import { BlobStore } from './store/blobs.js'
import { startCheckpointer, type Checkpointer } from './store/checkpointer.js'
import { ItemTable, openDb, type Db } from './store/db.js'
import { SpaceReserve } from './store/state-dir.js'

/** An account of the sandbox. */
export interface AccountRecord {
  readonly name: string
  readonly id: string
  /** The access key of the account's root credentials. */
  readonly rootAccessKeyId: string
  readonly created: string
}

/** Options for {@link Runtime}. */
export interface RuntimeOptions {
  readonly stateDir: string
  /** The region of profiles and of requests that name none. */
  readonly defaultRegion: string
  /** Hears a WAL checkpoint that failed on the checkpoint worker (nothing is lost; the WAL grows). */
  readonly onCheckpointError?: (message: string) => void
}

/** The sandbox's state and services. */
export class Runtime {
  readonly db: Db
  readonly blobs: BlobStore
  readonly credentials: ItemTable<CredentialRecord>
  readonly accountTable: ItemTable<AccountRecord>
  readonly iam: IamStore
  readonly services: Service[] = []
  /**
   * CloudFormation's resource providers, by resource type. The composition root
   * (`services/index.ts`, {@link RESOURCE_PROVIDERS}) fills it with every service's providers
   * before the services are built, so a service that offers a resource type (CodeBuild's
   * projects, CodePipeline's pipelines) never imports CloudFormation to register it.
   */
  readonly providers = new ProviderRegistry()
  readonly defaultRegion: string
  readonly stateDir: string
  /** Space given back when the disk is full so that deletes still work (see state-dir.ts). */
  readonly reserve: SpaceReserve
  /** Runs the database's WAL checkpoints on a worker thread (store/checkpointer.ts). */
  private readonly checkpointer: Checkpointer
  /** Internal APIs services expose to each other, by service name (internal/contracts.ts). */
  private readonly internals: { -readonly [K in keyof Internals]?: Internals[K] } = {}
  /** Functions listing the bodies each service's rows refer to, for the start-up sweep. */
  private readonly blobOwners: (() => ReadonlySet<string>)[] = []

  constructor(opts: RuntimeOptions) {
    this.stateDir = opts.stateDir
    this.defaultRegion = opts.defaultRegion
    this.db = openDb(opts.stateDir)
    this.checkpointer = startCheckpointer(this.db, opts.onCheckpointError)
    this.reserve = new SpaceReserve(join(opts.stateDir, 'space-reserve'))
    this.blobs = new BlobStore(join(opts.stateDir, 'objects'))
    this.credentials = new ItemTable(this.db, 'credential', { cached: true })
    this.accountTable = new ItemTable(this.db, 'account', { cached: true })
    this.iam = new IamStore(this.db)
  }

  /** The partition of a region (the default partition for regions the table does not know). */
  partition(region: string): string {
    return partitionOf(region) ?? DEFAULT_PARTITION
  }

  /** The accounts, by id order. */
  accounts(): AccountRecord[] {
    return this.accountTable.list('').map((r) => r.value)
  }

  /** The account with this id, or undefined. */
  account(id: string): AccountRecord | undefined {
    return this.accountTable.get('', id)
  }

  /** Creates an account with root credentials; an existing id keeps its credentials (and its name is updated). */
  addAccount(name: string, id: string): AccountRecord {
    const existing = this.account(id)
    if (existing) {
      if (existing.name !== name) this.accountTable.put('', id, { ...existing, name })
      return this.account(id)!
    }
    const now = new Date().toISOString()
    const akid = uniqueId('AKIA')
    const partition = this.partition(this.defaultRegion)
    const cred: CredentialRecord = {
      accessKeyId: akid,
      secretAccessKey: secretKey(),
      account: id,
      partition,
      kind: 'root',
      status: 'Active',
      created: now,
    }
    const rec: AccountRecord = { name, id, rootAccessKeyId: akid, created: now }
    this.db.transaction(() => {
      this.credentials.put('', akid, cred)
      this.accountTable.put('', id, rec)
    })()
    return rec
  }

  /** The credential record of an access key, or undefined. */
  credential(accessKeyId: string): CredentialRecord | undefined {
    return this.credentials.get('', accessKeyId)
  }

  /** Registers a service's internal API, typed by its contract in internal/contracts.ts. */
  provide<K extends keyof Internals>(name: K, api: Internals[K]): void {
    this.internals[name] = api
  }

  /** The internal API of a sibling service, typed by its contract (built earlier, or a bug). */
  internal<K extends keyof Internals>(name: K): Internals[K] {
    const api = this.internals[name]
    if (!api) throw new Error(`sandbox: internal API ${name} is not registered`)
    return api
  }

  /** Registers a service's list of live bodies; bodies nobody lists are orphans of interrupted writes. */
  registerBlobOwner(live: () => ReadonlySet<string>): void {
    this.blobOwners.push(live)
  }

  /**
   * Checks that the database and the body files match (call once every service is built): a row
   * that names a missing body refuses the start (restore the files or `--reset`); bodies no row
   * names (writes interrupted before their row committed) are moved to `objects/orphans/`, never
   * deleted. Returns how many were moved.
   */
  sweepBlobs(): number {
    const live = new Set<string>()
    for (const f of this.blobOwners) for (const id of f()) live.add(id)
    const missing = [...live].filter((id) => !this.blobs.has(id))
    if (missing.length > 0)
      throw new CrosspipeError(
        'sandbox',
        `${join(this.stateDir, 'sandbox.db')} names ${missing.length} object ${missing.length === 1 ? 'body' : 'bodies'} missing from ${join(this.stateDir, 'objects')} (first: ${missing[0]}): the bodies and the database do not match. Restore objects/ from the same backup as sandbox.db, or start empty with \`crosspipe sandbox --reset\`. Nothing was changed.`,
      )
    return this.blobs.sweep(live)
  }

  /** Stops the body workers and closes the database. */
  close(): void {
    this.blobs.close()
    this.checkpointer.stop()
    this.db.close()
  }
}
