/**
 * STS over awsQuery: GetCallerIdentity, GetSessionToken and AssumeRole, declared as operations of
 * STS's model (src/sandbox/operations): the model checks required members, lengths, patterns and
 * ranges (`RoleSessionName` 2–64 of `[\w+=,.@-]*`, `DurationSeconds` 900–43200…) with AWS's
 * messages; the handlers check only what the model cannot say. Behaviour and citations in SPEC.md.
 */
import type {
  AssumeRoleRequest,
  AssumeRoleResponse,
  Credentials,
  GetCallerIdentityRequest,
  GetCallerIdentityResponse,
  GetSessionTokenRequest,
  GetSessionTokenResponse,
} from '@aws-sdk/client-sts'
import { parseArn } from '../../../iam/arn.js'
import { XML_NAMESPACES } from '../../../iam/aws-facts.js'
import type { PolicyDocument } from '../../../iam/types.js'
import { validatePolicy } from '../../../iam/index.js'
import { authorize } from '../../auth/authorize.js'
import type { CredentialRecord } from '../../auth/identity.js'
import type { Runtime } from '../../runtime.js'
import { operation, queryService } from '../../operations/index.js'
import type { QueryService } from '../types.js'
import { accessDenied, malformedPolicyDocument, packedPolicyTooLarge, validationError } from './errors.js'
import { issueSession, issueUserSession } from '../../auth/sessions.js'

/** The `Credentials` of AssumeRole and GetSessionToken. */
function credentials(rec: CredentialRecord): Credentials {
  return {
    AccessKeyId: rec.accessKeyId,
    SecretAccessKey: rec.secretAccessKey,
    SessionToken: rec.sessionToken,
    Expiration: new Date(rec.expiration!),
  }
}

/** The STS service. */
export function stsService(runtime: Runtime): QueryService {
  return queryService({
    name: 'sts',
    signingName: 'sts',
    xmlNamespace: XML_NAMESPACES.sts,
    apiVersion: '2011-06-15',
    global: true,
    operations: [
      // GetCallerIdentity needs no permission: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
      operation<GetCallerIdentityRequest, GetCallerIdentityResponse>(
        'GetCallerIdentity',
        (_i, ctx) => ({
          UserId: ctx.identity.userId,
          Account: ctx.identity.account,
          Arn: ctx.identity.arn,
        }),
        { honours: [] },
      ),

      // Temporary credentials of the calling user or root: 900–129,600 s (the model's range; root:
      // at most 3,600, which the model cannot say), default 43,200; not from temporary credentials.
      // No permission is needed. https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
      operation<GetSessionTokenRequest, GetSessionTokenResponse>(
        'GetSessionToken',
        (input, ctx) => {
          const cred = ctx.identity.credential
          if (ctx.identity.kind === 'assumed-role' || cred.sessionToken !== undefined)
            throw accessDenied('Cannot call GetSessionToken with session credentials')
          // The root user's sessions last an hour at most: a longer duration "defaults to one hour"
          // rather than failing (the DurationSeconds member of API_GetSessionToken.html).
          const max = ctx.identity.kind === 'root' ? 3600 : 129600
          const duration = Math.min(input.DurationSeconds ?? 43200, max)
          return { Credentials: credentials(issueUserSession(runtime, cred, duration, ctx.now)) }
        },
        {
          honours: ['DurationSeconds'],
          refuses: {
            SerialNumber:
              'MFA devices are not modelled: call GetSessionToken without SerialNumber and TokenCode',
            TokenCode:
              'MFA devices are not modelled: call GetSessionToken without SerialNumber and TokenCode',
          },
        },
      ),

      operation<AssumeRoleRequest, AssumeRoleResponse>(
        'AssumeRole',
        (input, ctx) => {
          const roleArnParam = input.RoleArn
          const sessionName = input.RoleSessionName
          const duration = input.DurationSeconds ?? 3600
          const { ExternalId: externalId, SourceIdentity: sourceIdentity, Policy: policyText } = input
          let sessionPolicy: PolicyDocument | undefined
          if (policyText !== undefined) {
            // The model sets no maximum; AssumeRole's page does (2,048 characters, PackedPolicyTooLarge).
            if (policyText.length > 2048) throw packedPolicyTooLarge()
            try {
              sessionPolicy = JSON.parse(policyText) as PolicyDocument
            } catch {
              throw malformedPolicyDocument('Syntax errors in policy.')
            }
            if (!sessionPolicy || typeof sessionPolicy !== 'object' || Array.isArray(sessionPolicy))
              throw malformedPolicyDocument('Syntax errors in policy.')
            // The policy grammar is not in the model: the engine evaluates it as a session policy on
            // every request, so refuse what it cannot evaluate.
            const problems = validatePolicy(sessionPolicy, 'session')
            if (problems.length)
              throw malformedPolicyDocument(problems.map((x) => `${x.element}: ${x.message}`).join('; '))
          }
          // The root user cannot assume roles (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
          if (ctx.identity.kind === 'root') throw accessDenied('Roles may not be assumed by root accounts.')

          const arn = parseArn(roleArnParam)
          const roleName = arn?.resource.startsWith('role/') ? arn.resource.split('/').pop() : undefined
          const role = arn && roleName ? runtime.iam.role(arn.account, roleName) : undefined
          const trust: PolicyDocument | undefined = role
            ? runtime.iam.parsed(role.assumeRolePolicy)
            : undefined
          const context: Record<string, string> = { 'sts:RoleSessionName': sessionName }
          if (externalId !== undefined) context['sts:ExternalId'] = externalId
          if (sourceIdentity !== undefined) context['sts:SourceIdentity'] = sourceIdentity
          // A role that does not exist is denied like one whose trust policy does not allow the caller:
          // AWS does not reveal which (an empty trust policy gives the engine nothing to allow).
          authorize(
            ctx,
            {
              action: 'sts:AssumeRole',
              resource: role?.arn ?? roleArnParam,
              resourceAccount: arn?.account,
              resourcePolicy: trust ?? { Version: '2012-10-17', Statement: [] },
              resourcePolicyName: role ? `trust policy of role ${role.name}` : 'trust policy',
              context,
            },
            'query',
          )
          if (!role || !arn)
            throw accessDenied(
              `User: ${ctx.identity.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArnParam}`,
            )
          if (duration > role.maxSessionDuration)
            throw validationError(
              `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
            )
          // Role chaining caps sessions at one hour (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining).
          if (ctx.identity.kind === 'assumed-role' && duration > 3600)
            throw validationError(
              'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
            )
          // The role was used: GetRole's RoleLastUsed says when and where. Written at most once a
          // minute per role, so a busy pipeline does not write the role on every AssumeRole.
          const last = role.lastUsed ? Date.parse(role.lastUsed.date) : 0
          if (ctx.now.getTime() - last > 60_000 || role.lastUsed?.region !== ctx.region)
            runtime.iam.roles.put(arn.account, role.name.toLowerCase(), {
              ...role,
              lastUsed: { date: ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z'), region: ctx.region },
            })
          const rec = issueSession({
            runtime,
            account: arn.account,
            partition: arn.partition,
            role,
            sessionName,
            durationSeconds: duration,
            now: ctx.now,
            sessionPolicy,
            sourceIdentity,
          })
          return {
            Credentials: credentials(rec),
            AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${sessionName}`, Arn: rec.arn },
            PackedPolicySize:
              policyText !== undefined
                ? Math.min(100, Math.ceil((policyText.length / 2048) * 100))
                : undefined,
            SourceIdentity: sourceIdentity,
          }
        },
        {
          honours: [
            'RoleArn',
            'RoleSessionName',
            'Policy',
            'DurationSeconds',
            'ExternalId',
            'SourceIdentity',
          ],
          // Managed session policies (PolicyArns), session tags (Tags, TransitiveTagKeys), MFA
          // (SerialNumber, TokenCode) and trusted identity propagation (ProvidedContexts) would
          // each change the session or the decision; the sandbox models none of them.
          refuses: {
            PolicyArns: 'pass the session policy as Policy (inline JSON) instead',
            SerialNumber: 'MFA devices are not modelled',
            TokenCode: 'MFA devices are not modelled',
          },
        },
      ),
    ],
  })
}
