/**
 * IAM over awsQuery: roles, inline and managed policies, users and access keys, declared as
 * operations of IAM's model (src/sandbox/operations): names, paths, lengths, ranges, enums
 * (`Scope`, `Status`) and required members are checked by the model with AWS's messages; the
 * handlers check what the model cannot say (policy grammar, quotas, existence). Behaviour and
 * citations in SPEC.md. IAM is global: every action works on the caller's own account.
 */
import type * as Iam from '@aws-sdk/client-iam'
import { awsManagedPolicyArn, formatArn } from '../../../iam/arn.js'
import { XML_NAMESPACES } from '../../../iam/aws-facts.js'
import { authorize } from '../../auth/authorize.js'
import { AwsError } from '../../errors.js'
import type { CredentialRecord } from '../../auth/identity.js'
import { secretKey, uniqueId } from '../../ids.js'
import { operation, queryService, type Operation } from '../../operations/index.js'
import type { Runtime } from '../../runtime.js'
import type { QueryService, RequestContext } from '../types.js'
import { deleteConflict, entityAlreadyExists, invalidInput, limitExceeded, noSuchEntity } from './errors.js'
import { checkPolicyText } from './policy-text.js'
import { awsManagedPolicies, awsManagedPolicy } from '../../../iam/index.js'
import type { ManagedPolicyRecord, RoleRecord, Tag, UserRecord } from './store.js'

/** IAM returns policy documents URL-encoded (RFC 3986): https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html */
function encodeDoc(text: string): string {
  return encodeURIComponent(text)
}

/** A stored ISO time as the SDK's `Date`. */
const at = (iso: string): Date => new Date(iso)

function tagsOut(tags: readonly Tag[]): Iam.Tag[] | undefined {
  return tags.length ? tags.map((t) => ({ Key: t.Key, Value: t.Value })) : undefined
}

function tagsIn(tags: readonly Iam.Tag[] | undefined): Tag[] {
  return (tags ?? []).map((t) => ({ Key: t.Key!, Value: t.Value! }))
}

function roleOut(r: RoleRecord): Iam.Role {
  return {
    Path: r.path,
    RoleName: r.name,
    RoleId: r.roleId,
    Arn: r.arn,
    CreateDate: at(r.created),
    AssumeRolePolicyDocument: encodeDoc(r.assumeRolePolicy),
    Description: r.description,
    MaxSessionDuration: r.maxSessionDuration,
    Tags: tagsOut(r.tags),
  }
}

/**
 * A role as ListRoles lists it: without `Tags` (nor `RoleLastUsed` and `PermissionsBoundary`), which
 * "IAM resource-listing operations" leave out (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html).
 */
function listedRole(r: RoleRecord): Iam.Role {
  return { ...roleOut(r), Tags: undefined }
}

function userOut(u: UserRecord): Iam.User {
  return {
    Path: u.path,
    UserName: u.name,
    UserId: u.userId,
    Arn: u.arn,
    CreateDate: at(u.created),
    Tags: tagsOut(u.tags),
  }
}

/** A user as ListUsers lists it: without `Tags` (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html). */
function listedUser(u: UserRecord): Iam.User {
  return { ...userOut(u), Tags: undefined }
}

function policyOut(p: ManagedPolicyRecord): Iam.Policy {
  return {
    PolicyName: p.name,
    PolicyId: p.policyId,
    Arn: p.arn,
    Path: p.path,
    DefaultVersionId: p.defaultVersionId,
    AttachmentCount: p.attachmentCount,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    Description: p.description,
    CreateDate: at(p.created),
    UpdateDate: at(p.updated),
    Tags: tagsOut(p.tags),
  }
}

/**
 * Marker/MaxItems paging over a sorted list (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html);
 * the model bounds MaxItems to 1–1000.
 */
function page<T>(
  input: { readonly MaxItems?: number; readonly Marker?: string },
  items: readonly T[],
): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const max = input.MaxItems ?? 100
  const start = input.Marker ? Number(Buffer.from(input.Marker, 'base64url').toString('utf8')) || 0 : 0
  const slice = items.slice(start, start + max)
  const truncated = start + max < items.length
  return {
    items: slice,
    IsTruncated: truncated,
    Marker: truncated ? Buffer.from(String(start + max)).toString('base64url') : undefined,
  }
}

/** The IAM service. */
export function iamService(runtime: Runtime): QueryService {
  const store = runtime.iam
  const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
  const arnOf = (ctx: RequestContext, resource: string): string =>
    formatArn({ partition: ctx.partition, service: 'iam', account: ctx.identity.account, resource })
  const allow = (ctx: RequestContext, action: string, resource: string): void =>
    authorize(ctx, { action: `iam:${action}`, resource, resourceAccount: ctx.identity.account }, 'query')

  const getRole = (ctx: RequestContext, name: string): RoleRecord => {
    const r = store.role(ctx.identity.account, name)
    if (!r) throw noSuchEntity(`The role with name ${name} cannot be found.`)
    return r
  }
  const getUser = (ctx: RequestContext, name: string): UserRecord => {
    const u = store.user(ctx.identity.account, name)
    if (!u) throw noSuchEntity(`The user with name ${name} cannot be found.`)
    return u
  }
  const getPolicy = (ctx: RequestContext, arn: string): ManagedPolicyRecord => {
    const pol = store.policyByArn(arn)
    const visible = awsManagedPolicy(arn) !== undefined || arn.includes(`::${ctx.identity.account}:`)
    if (!pol || !visible) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`)
    return pol
  }
  /** AWS managed policies belong to AWS: no account may change them. */
  const ownPolicy = (ctx: RequestContext, action: string, arn: string): ManagedPolicyRecord => {
    const pol = getPolicy(ctx, arn)
    if (awsManagedPolicy(arn))
      throw new AwsError(
        'AccessDenied',
        `User: ${ctx.identity.arn} is not authorized to perform: iam:${action} on resource: policy ${arn}`,
        403,
      )
    return pol
  }
  const roleArnFor = (ctx: RequestContext, name: string): string =>
    store.role(ctx.identity.account, name)?.arn ?? arnOf(ctx, `role/${name}`)
  const userArnFor = (ctx: RequestContext, name: string): string =>
    store.user(ctx.identity.account, name)?.arn ?? arnOf(ctx, `user/${name}`)
  /** The user an access-key call is about: the one named, else the caller (IAM's rule for users). */
  const userFor = (ctx: RequestContext, named: string | undefined): string => {
    const name = named ?? ctx.identity.credential.userName
    if (!name) throw invalidInput('Must specify userName when calling with non-User credentials')
    return name
  }

  /**
   * Inline policies and managed-policy attachments, alike for roles and users. The SDK's Role and
   * User inputs differ only in the owner's member (`RoleName` / `UserName`), which `owner` reads.
   */
  function inlineOperations(kind: 'Role' | 'User'): Operation[] {
    const table = kind === 'Role' ? store.rolePolicies : store.userPolicies
    const get = kind === 'Role' ? getRole : getUser
    const arnFor = kind === 'Role' ? roleArnFor : userArnFor
    const owner = (i: { readonly RoleName?: string; readonly UserName?: string }): string =>
      (kind === 'Role' ? i.RoleName : i.UserName)!
    const save = (ctx: RequestContext, rec: RoleRecord | UserRecord): void => {
      if (kind === 'Role') store.roles.put(ctx.identity.account, rec.name.toLowerCase(), rec as RoleRecord)
      else store.users.put(ctx.identity.account, rec.name.toLowerCase(), rec as UserRecord)
    }
    type Put = Iam.PutRolePolicyRequest | Iam.PutUserPolicyRequest
    type Named = Iam.GetRolePolicyRequest | Iam.GetUserPolicyRequest
    type Owner = Iam.ListRolePoliciesRequest | Iam.ListUserPoliciesRequest
    type Attach = Iam.AttachRolePolicyRequest | Iam.AttachUserPolicyRequest
    type Paged = Iam.ListAttachedRolePoliciesRequest | Iam.ListAttachedUserPoliciesRequest
    const own = kind === 'Role' ? ('RoleName' as const) : ('UserName' as const)
    return [
      operation<Put, object>(
        `Put${kind}Policy`,
        (i, ctx) => {
          allow(ctx, `Put${kind}Policy`, arnFor(ctx, owner(i)))
          const rec = get(ctx, owner(i))
          checkPolicyText(i.PolicyDocument, 'identity')
          table.put(ctx.identity.account, `${rec.name.toLowerCase()}/${i.PolicyName}`, {
            name: i.PolicyName,
            document: i.PolicyDocument,
          })
          return {}
        },
        { honours: [own, 'PolicyName', 'PolicyDocument'] },
      ),
      operation<Named, Iam.GetRolePolicyResponse | Iam.GetUserPolicyResponse>(
        `Get${kind}Policy`,
        (i, ctx) => {
          allow(ctx, `Get${kind}Policy`, arnFor(ctx, owner(i)))
          const rec = get(ctx, owner(i))
          const pol = table.get(ctx.identity.account, `${rec.name.toLowerCase()}/${i.PolicyName}`)
          if (!pol)
            throw noSuchEntity(`The ${kind.toLowerCase()} policy with name ${i.PolicyName} cannot be found.`)
          const out = { PolicyName: pol.name, PolicyDocument: encodeDoc(pol.document) }
          return kind === 'Role' ? { RoleName: rec.name, ...out } : { UserName: rec.name, ...out }
        },
        { honours: [own, 'PolicyName'] },
      ),
      operation<Named, object>(
        `Delete${kind}Policy`,
        (i, ctx) => {
          allow(ctx, `Delete${kind}Policy`, arnFor(ctx, owner(i)))
          const rec = get(ctx, owner(i))
          if (!table.delete(ctx.identity.account, `${rec.name.toLowerCase()}/${i.PolicyName}`))
            throw noSuchEntity(`The ${kind.toLowerCase()} policy with name ${i.PolicyName} cannot be found.`)
          return {}
        },
        { honours: [own, 'PolicyName'] },
      ),
      operation<Owner, Iam.ListRolePoliciesResponse>(
        `List${kind}Policies`,
        (i, ctx) => {
          allow(ctx, `List${kind}Policies`, arnFor(ctx, owner(i)))
          const rec = get(ctx, owner(i))
          const names = table
            .list(ctx.identity.account, rec.name.toLowerCase() + '/')
            .map((x) => x.value.name)
          const pg = page(i, names)
          return { PolicyNames: pg.items, IsTruncated: pg.IsTruncated, Marker: pg.Marker }
        },
        { honours: [own, 'Marker', 'MaxItems'] },
      ),
      operation<Attach, object>(
        `Attach${kind}Policy`,
        (i, ctx) => {
          allow(ctx, `Attach${kind}Policy`, arnFor(ctx, owner(i)))
          const rec = get(ctx, owner(i))
          const pol = getPolicy(ctx, i.PolicyArn)
          if (!rec.attached.includes(pol.arn)) {
            runtime.db.transaction(() => {
              rec.attached.push(pol.arn)
              pol.attachmentCount++
              save(ctx, rec)
              store.policies.put(ctx.identity.account, pol.name.toLowerCase(), pol)
            })()
          }
          return {}
        },
        { honours: [own, 'PolicyArn'] },
      ),
      operation<Attach, object>(
        `Detach${kind}Policy`,
        (i, ctx) => {
          const policyArn = i.PolicyArn
          allow(ctx, `Detach${kind}Policy`, arnFor(ctx, owner(i)))
          const rec = get(ctx, owner(i))
          if (!rec.attached.includes(policyArn)) throw noSuchEntity(`Policy ${policyArn} was not found.`)
          runtime.db.transaction(() => {
            rec.attached = rec.attached.filter((a) => a !== policyArn)
            save(ctx, rec)
            const pol = store.policyByArn(policyArn)
            if (pol && !awsManagedPolicy(policyArn)) {
              pol.attachmentCount = Math.max(0, pol.attachmentCount - 1)
              store.policies.put(ctx.identity.account, pol.name.toLowerCase(), pol)
            }
          })()
          return {}
        },
        { honours: [own, 'PolicyArn'] },
      ),
      operation<Paged, Iam.ListAttachedRolePoliciesResponse>(
        `ListAttached${kind}Policies`,
        (i, ctx) => {
          allow(ctx, `ListAttached${kind}Policies`, arnFor(ctx, owner(i)))
          const rec = get(ctx, owner(i))
          // A managed policy's path is in its ARN (`policy/service-role/Name`).
          const prefix = i.PathPrefix ?? '/'
          const pg = page(
            i,
            rec.attached.filter((arn) => {
              const resource = arn.split(':').slice(5).join(':')
              return resource.slice('policy'.length, resource.lastIndexOf('/') + 1).startsWith(prefix)
            }),
          )
          return {
            AttachedPolicies: pg.items.map((arn) => ({ PolicyName: arn.split('/').pop(), PolicyArn: arn })),
            IsTruncated: pg.IsTruncated,
            Marker: pg.Marker,
          }
        },
        { honours: [own, 'PathPrefix', 'Marker', 'MaxItems'] },
      ),
    ]
  }

  function saveRole(ctx: RequestContext, r: RoleRecord): void {
    store.roles.put(ctx.identity.account, r.name.toLowerCase(), r)
  }

  function keysOf(account: string, userName: string): CredentialRecord[] {
    return runtime.credentials
      .list('', 'AKIA')
      .map((x) => x.value)
      .filter(
        (c) =>
          c.kind === 'user' && c.account === account && c.userName?.toLowerCase() === userName.toLowerCase(),
      )
  }

  function ownKey(ctx: RequestContext, named: string | undefined, id: string): CredentialRecord {
    const k = runtime.credentials.get('', id)
    const userName = named ?? ctx.identity.credential.userName
    if (
      !k ||
      k.kind !== 'user' ||
      k.account !== ctx.identity.account ||
      (userName && k.userName?.toLowerCase() !== userName.toLowerCase())
    )
      throw noSuchEntity(`The Access Key with id ${id} cannot be found.`)
    return k
  }

  return queryService({
    name: 'iam',
    signingName: 'iam',
    xmlNamespace: XML_NAMESPACES.iam,
    apiVersion: '2010-05-08',
    global: true,
    operations: [
      operation<Iam.CreateRoleRequest, Iam.CreateRoleResponse>(
        'CreateRole',
        (i, ctx) => {
          const name = i.RoleName
          const path = i.Path ?? '/'
          const arn = arnOf(ctx, `role${path}${name}`)
          allow(ctx, 'CreateRole', arn)
          if (store.role(ctx.identity.account, name))
            throw entityAlreadyExists(`Role with name ${name} already exists.`)
          checkPolicyText(i.AssumeRolePolicyDocument, 'trust')
          const r: RoleRecord = {
            name,
            path,
            roleId: uniqueId('AROA'),
            arn,
            created: now(),
            assumeRolePolicy: i.AssumeRolePolicyDocument,
            description: i.Description,
            maxSessionDuration: i.MaxSessionDuration ?? 3600,
            tags: tagsIn(i.Tags),
            attached: [],
          }
          saveRole(ctx, r)
          return { Role: roleOut(r) }
        },
        {
          honours: [
            'Path',
            'RoleName',
            'AssumeRolePolicyDocument',
            'Description',
            'MaxSessionDuration',
            'Tags',
          ],
          refuses: {
            PermissionsBoundary: 'permissions boundaries are not modelled by its IAM policy engine',
          },
        },
      ),
      operation<Iam.GetRoleRequest, Iam.GetRoleResponse>(
        'GetRole',
        (i, ctx) => {
          allow(ctx, 'GetRole', roleArnFor(ctx, i.RoleName))
          const r = getRole(ctx, i.RoleName)
          // GetRole (not ListRoles) tells when the role was last used; empty when never
          // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_RoleLastUsed.html).
          return {
            Role: {
              ...roleOut(r),
              RoleLastUsed: r.lastUsed
                ? { LastUsedDate: at(r.lastUsed.date), Region: r.lastUsed.region }
                : {},
            },
          }
        },
        { honours: ['RoleName'] },
      ),
      operation<Iam.ListRolesRequest, Iam.ListRolesResponse>(
        'ListRoles',
        (i, ctx) => {
          allow(ctx, 'ListRoles', '*')
          const prefix = i.PathPrefix ?? '/'
          const roles = store.roles
            .list(ctx.identity.account)
            .map((x) => x.value)
            .filter((r) => r.path.startsWith(prefix))
          const pg = page(i, roles)
          return { Roles: pg.items.map(listedRole), IsTruncated: pg.IsTruncated, Marker: pg.Marker }
        },
        { honours: ['PathPrefix', 'Marker', 'MaxItems'] },
      ),
      operation<Iam.UpdateRoleRequest, Iam.UpdateRoleResponse>(
        'UpdateRole',
        (i, ctx) => {
          allow(ctx, 'UpdateRole', roleArnFor(ctx, i.RoleName))
          const r = getRole(ctx, i.RoleName)
          if (i.Description !== undefined) r.description = i.Description
          if (i.MaxSessionDuration !== undefined) r.maxSessionDuration = i.MaxSessionDuration
          saveRole(ctx, r)
          return {}
        },
        { honours: ['RoleName', 'Description', 'MaxSessionDuration'] },
      ),
      operation<Iam.UpdateAssumeRolePolicyRequest, object>(
        'UpdateAssumeRolePolicy',
        (i, ctx) => {
          allow(ctx, 'UpdateAssumeRolePolicy', roleArnFor(ctx, i.RoleName))
          const r = getRole(ctx, i.RoleName)
          checkPolicyText(i.PolicyDocument, 'trust')
          r.assumeRolePolicy = i.PolicyDocument
          saveRole(ctx, r)
          return {}
        },
        { honours: ['RoleName', 'PolicyDocument'] },
      ),
      operation<Iam.DeleteRoleRequest, object>(
        'DeleteRole',
        (i, ctx) => {
          allow(ctx, 'DeleteRole', roleArnFor(ctx, i.RoleName))
          const r = getRole(ctx, i.RoleName)
          if (store.rolePolicies.list(ctx.identity.account, r.name.toLowerCase() + '/').length)
            throw deleteConflict('Cannot delete entity, must delete policies first.')
          if (r.attached.length) throw deleteConflict('Cannot delete entity, must detach all policies first.')
          store.roles.delete(ctx.identity.account, r.name.toLowerCase())
          return {}
        },
        { honours: ['RoleName'] },
      ),
      operation<Iam.TagRoleRequest, object>(
        'TagRole',
        (i, ctx) => {
          allow(ctx, 'TagRole', roleArnFor(ctx, i.RoleName))
          const r = getRole(ctx, i.RoleName)
          const tags = tagsIn(i.Tags)
          r.tags = [...r.tags.filter((t) => !tags.some((n) => n.Key === t.Key)), ...tags]
          // The model bounds one call's tags; the quota is on the role's total.
          if (r.tags.length > 50) throw limitExceeded('The number of tags has reached the maximum limit.')
          saveRole(ctx, r)
          return {}
        },
        { honours: ['RoleName', 'Tags'] },
      ),
      operation<Iam.UntagRoleRequest, object>(
        'UntagRole',
        (i, ctx) => {
          allow(ctx, 'UntagRole', roleArnFor(ctx, i.RoleName))
          const r = getRole(ctx, i.RoleName)
          r.tags = r.tags.filter((t) => !i.TagKeys.includes(t.Key))
          saveRole(ctx, r)
          return {}
        },
        { honours: ['RoleName', 'TagKeys'] },
      ),
      operation<Iam.ListRoleTagsRequest, Iam.ListRoleTagsResponse>(
        'ListRoleTags',
        (i, ctx) => {
          allow(ctx, 'ListRoleTags', roleArnFor(ctx, i.RoleName))
          const r = getRole(ctx, i.RoleName)
          const pg = page(i, r.tags)
          return {
            Tags: pg.items.map((t) => ({ Key: t.Key, Value: t.Value })),
            IsTruncated: pg.IsTruncated,
            Marker: pg.Marker,
          }
        },
        { honours: ['RoleName', 'Marker', 'MaxItems'] },
      ),
      ...inlineOperations('Role'),
      ...inlineOperations('User'),

      operation<Iam.CreatePolicyRequest, Iam.CreatePolicyResponse>(
        'CreatePolicy',
        (i, ctx) => {
          const name = i.PolicyName
          const path = i.Path ?? '/'
          const arn = arnOf(ctx, `policy${path}${name}`)
          allow(ctx, 'CreatePolicy', arn)
          if (store.policies.get(ctx.identity.account, name.toLowerCase()))
            throw entityAlreadyExists(
              `A policy called ${name} already exists. Duplicate names are not allowed.`,
            )
          checkPolicyText(i.PolicyDocument, 'identity')
          const t = now()
          const pol: ManagedPolicyRecord = {
            name,
            path,
            policyId: uniqueId('ANPA'),
            arn,
            created: t,
            updated: t,
            description: i.Description,
            defaultVersionId: 'v1',
            versions: [{ versionId: 'v1', document: i.PolicyDocument, created: t }],
            nextVersion: 2,
            attachmentCount: 0,
            tags: tagsIn(i.Tags),
          }
          store.policies.put(ctx.identity.account, name.toLowerCase(), pol)
          return { Policy: policyOut(pol) }
        },
        { honours: ['PolicyName', 'Path', 'PolicyDocument', 'Description', 'Tags'] },
      ),
      operation<Iam.GetPolicyRequest, Iam.GetPolicyResponse>(
        'GetPolicy',
        (i, ctx) => {
          allow(ctx, 'GetPolicy', i.PolicyArn)
          return { Policy: policyOut(getPolicy(ctx, i.PolicyArn)) }
        },
        { honours: ['PolicyArn'] },
      ),
      operation<Iam.ListPoliciesRequest, Iam.ListPoliciesResponse>(
        'ListPolicies',
        (i, ctx) => {
          allow(ctx, 'ListPolicies', '*')
          const scope = i.Scope ?? 'All'
          const onlyAttached = i.OnlyAttached === true
          const prefix = i.PathPrefix ?? '/'
          const awsOnes = onlyAttached
            ? []
            : awsManagedPolicies()
                .filter((x) => x.path.startsWith(prefix))
                .map((x) => store.policyByArn(awsManagedPolicyArn(ctx.partition, x.name, x.path))!)
          const local = store.policies
            .list(ctx.identity.account)
            .map((x) => x.value)
            .filter((x) => x.path.startsWith(prefix) && (!onlyAttached || x.attachmentCount > 0))
          const all = scope === 'AWS' ? awsOnes : scope === 'Local' ? local : [...awsOnes, ...local]
          const pg = page(i, all)
          return { Policies: pg.items.map(policyOut), IsTruncated: pg.IsTruncated, Marker: pg.Marker }
        },
        { honours: ['Scope', 'OnlyAttached', 'PathPrefix', 'Marker', 'MaxItems'] },
      ),
      operation<Iam.GetPolicyVersionRequest, Iam.GetPolicyVersionResponse>(
        'GetPolicyVersion',
        (i, ctx) => {
          const { PolicyArn: arn, VersionId: versionId } = i
          allow(ctx, 'GetPolicyVersion', arn)
          const pol = getPolicy(ctx, arn)
          const v = pol.versions.find((x) => x.versionId === versionId)
          if (!v)
            throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`)
          return {
            PolicyVersion: {
              Document: encodeDoc(v.document),
              VersionId: v.versionId,
              IsDefaultVersion: v.versionId === pol.defaultVersionId,
              CreateDate: at(v.created),
            },
          }
        },
        { honours: ['PolicyArn', 'VersionId'] },
      ),
      operation<Iam.ListPolicyVersionsRequest, Iam.ListPolicyVersionsResponse>(
        'ListPolicyVersions',
        (i, ctx) => {
          allow(ctx, 'ListPolicyVersions', i.PolicyArn)
          const pol = getPolicy(ctx, i.PolicyArn)
          const pg = page(i, [...pol.versions].reverse())
          return {
            Versions: pg.items.map((v) => ({
              VersionId: v.versionId,
              IsDefaultVersion: v.versionId === pol.defaultVersionId,
              CreateDate: at(v.created),
            })),
            IsTruncated: pg.IsTruncated,
            Marker: pg.Marker,
          }
        },
        { honours: ['PolicyArn', 'Marker', 'MaxItems'] },
      ),
      operation<Iam.CreatePolicyVersionRequest, Iam.CreatePolicyVersionResponse>(
        'CreatePolicyVersion',
        (i, ctx) => {
          allow(ctx, 'CreatePolicyVersion', i.PolicyArn)
          const pol = ownPolicy(ctx, 'CreatePolicyVersion', i.PolicyArn)
          checkPolicyText(i.PolicyDocument, 'identity')
          if (pol.versions.length >= 5)
            throw limitExceeded(
              'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.',
            )
          const v = { versionId: `v${pol.nextVersion}`, document: i.PolicyDocument, created: now() }
          pol.nextVersion++
          pol.versions.push(v)
          if (i.SetAsDefault === true) pol.defaultVersionId = v.versionId
          pol.updated = v.created
          store.policies.put(ctx.identity.account, pol.name.toLowerCase(), pol)
          return {
            PolicyVersion: {
              VersionId: v.versionId,
              IsDefaultVersion: v.versionId === pol.defaultVersionId,
              CreateDate: at(v.created),
            },
          }
        },
        { honours: ['PolicyArn', 'PolicyDocument', 'SetAsDefault'] },
      ),
      operation<Iam.SetDefaultPolicyVersionRequest, object>(
        'SetDefaultPolicyVersion',
        (i, ctx) => {
          const { PolicyArn: arn, VersionId: versionId } = i
          allow(ctx, 'SetDefaultPolicyVersion', arn)
          const pol = ownPolicy(ctx, 'SetDefaultPolicyVersion', arn)
          if (!pol.versions.some((v) => v.versionId === versionId))
            throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`)
          pol.defaultVersionId = versionId
          store.policies.put(ctx.identity.account, pol.name.toLowerCase(), pol)
          return {}
        },
        { honours: ['PolicyArn', 'VersionId'] },
      ),
      operation<Iam.DeletePolicyVersionRequest, object>(
        'DeletePolicyVersion',
        (i, ctx) => {
          const { PolicyArn: arn, VersionId: versionId } = i
          allow(ctx, 'DeletePolicyVersion', arn)
          const pol = ownPolicy(ctx, 'DeletePolicyVersion', arn)
          if (!pol.versions.some((v) => v.versionId === versionId))
            throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`)
          if (versionId === pol.defaultVersionId)
            throw deleteConflict('Cannot delete the default version of a policy.')
          pol.versions = pol.versions.filter((v) => v.versionId !== versionId)
          store.policies.put(ctx.identity.account, pol.name.toLowerCase(), pol)
          return {}
        },
        { honours: ['PolicyArn', 'VersionId'] },
      ),
      operation<Iam.DeletePolicyRequest, object>(
        'DeletePolicy',
        (i, ctx) => {
          allow(ctx, 'DeletePolicy', i.PolicyArn)
          const pol = ownPolicy(ctx, 'DeletePolicy', i.PolicyArn)
          if (pol.attachmentCount > 0) throw deleteConflict('Cannot delete a policy attached to entities.')
          if (pol.versions.length > 1)
            throw deleteConflict(
              "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
            )
          store.policies.delete(ctx.identity.account, pol.name.toLowerCase())
          return {}
        },
        { honours: ['PolicyArn'] },
      ),

      operation<Iam.CreateUserRequest, Iam.CreateUserResponse>(
        'CreateUser',
        (i, ctx) => {
          const name = i.UserName
          const path = i.Path ?? '/'
          const arn = arnOf(ctx, `user${path}${name}`)
          allow(ctx, 'CreateUser', arn)
          if (store.user(ctx.identity.account, name))
            throw entityAlreadyExists(`User with name ${name} already exists.`)
          const u: UserRecord = {
            name,
            path,
            userId: uniqueId('AIDA'),
            arn,
            created: now(),
            tags: tagsIn(i.Tags),
            attached: [],
          }
          store.users.put(ctx.identity.account, name.toLowerCase(), u)
          return { User: userOut(u) }
        },
        {
          honours: ['Path', 'UserName', 'Tags'],
          refuses: {
            PermissionsBoundary: 'permissions boundaries are not modelled by its IAM policy engine',
          },
        },
      ),
      operation<Iam.GetUserRequest, Iam.GetUserResponse>(
        'GetUser',
        (i, ctx) => {
          const name = userFor(ctx, i.UserName)
          allow(ctx, 'GetUser', userArnFor(ctx, name))
          return { User: userOut(getUser(ctx, name)) }
        },
        { honours: ['UserName'] },
      ),
      operation<Iam.ListUsersRequest, Iam.ListUsersResponse>(
        'ListUsers',
        (i, ctx) => {
          allow(ctx, 'ListUsers', '*')
          const prefix = i.PathPrefix ?? '/'
          const users = store.users
            .list(ctx.identity.account)
            .map((x) => x.value)
            .filter((u) => u.path.startsWith(prefix))
          const pg = page(i, users)
          return { Users: pg.items.map(listedUser), IsTruncated: pg.IsTruncated, Marker: pg.Marker }
        },
        { honours: ['PathPrefix', 'Marker', 'MaxItems'] },
      ),
      operation<Iam.DeleteUserRequest, object>(
        'DeleteUser',
        (i, ctx) => {
          allow(ctx, 'DeleteUser', userArnFor(ctx, i.UserName))
          const u = getUser(ctx, i.UserName)
          if (keysOf(ctx.identity.account, u.name).length)
            throw deleteConflict('Cannot delete entity, must delete access keys first.')
          if (store.userPolicies.list(ctx.identity.account, u.name.toLowerCase() + '/').length)
            throw deleteConflict('Cannot delete entity, must delete policies first.')
          if (u.attached.length) throw deleteConflict('Cannot delete entity, must detach all policies first.')
          store.users.delete(ctx.identity.account, u.name.toLowerCase())
          return {}
        },
        { honours: ['UserName'] },
      ),
      operation<Iam.CreateAccessKeyRequest, Iam.CreateAccessKeyResponse>(
        'CreateAccessKey',
        (i, ctx) => {
          const name = userFor(ctx, i.UserName)
          allow(ctx, 'CreateAccessKey', userArnFor(ctx, name))
          const u = getUser(ctx, name)
          if (keysOf(ctx.identity.account, u.name).length >= 2)
            throw limitExceeded('Cannot exceed quota for AccessKeysPerUser: 2')
          const rec: CredentialRecord = {
            accessKeyId: uniqueId('AKIA'),
            secretAccessKey: secretKey(),
            account: ctx.identity.account,
            partition: ctx.partition,
            kind: 'user',
            arn: u.arn,
            userName: u.name,
            principalId: u.userId,
            status: 'Active',
            created: now(),
          }
          runtime.credentials.put('', rec.accessKeyId, rec)
          return {
            AccessKey: {
              UserName: u.name,
              AccessKeyId: rec.accessKeyId,
              Status: 'Active',
              SecretAccessKey: rec.secretAccessKey,
              CreateDate: at(rec.created),
            },
          }
        },
        { honours: ['UserName'] },
      ),
      operation<Iam.ListAccessKeysRequest, Iam.ListAccessKeysResponse>(
        'ListAccessKeys',
        (i, ctx) => {
          const name = userFor(ctx, i.UserName)
          allow(ctx, 'ListAccessKeys', userArnFor(ctx, name))
          const u = getUser(ctx, name)
          const pg = page(i, keysOf(ctx.identity.account, u.name))
          return {
            AccessKeyMetadata: pg.items.map((k) => ({
              UserName: u.name,
              AccessKeyId: k.accessKeyId,
              Status: k.status,
              CreateDate: at(k.created),
            })),
            IsTruncated: pg.IsTruncated,
            Marker: pg.Marker,
          }
        },
        { honours: ['UserName', 'Marker', 'MaxItems'] },
      ),
      operation<Iam.UpdateAccessKeyRequest, object>(
        'UpdateAccessKey',
        (i, ctx) => {
          const status = i.Status
          // The model's set also has `Expired`, a state AWS gives keys, not one a caller sets.
          if (status === 'Expired')
            throw invalidInput(
              'An access key can be set Active or Inactive; Expired is not modelled by the sandbox.',
            )
          const k = ownKey(ctx, i.UserName, i.AccessKeyId)
          allow(ctx, 'UpdateAccessKey', userArnFor(ctx, k.userName ?? ''))
          runtime.credentials.put('', i.AccessKeyId, { ...k, status })
          return {}
        },
        { honours: ['UserName', 'AccessKeyId', 'Status'] },
      ),
      operation<Iam.DeleteAccessKeyRequest, object>(
        'DeleteAccessKey',
        (i, ctx) => {
          const k = ownKey(ctx, i.UserName, i.AccessKeyId)
          allow(ctx, 'DeleteAccessKey', userArnFor(ctx, k.userName ?? ''))
          runtime.credentials.delete('', i.AccessKeyId)
          return {}
        },
        { honours: ['UserName', 'AccessKeyId'] },
      ),
    ],
  })
}
