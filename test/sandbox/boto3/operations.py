"""Every operation the crosspipe sandbox serves, called through boto3 and checked against AWS's documentation.

Run by test/sandbox/boto3-operations.test.ts with the environment of `sandboxEnv` (profiles ci, dev
and prod of a running sandbox). Arguments: the services to run (all when none), e.g. `iam kms`.
Prints one JSON document: the calls made per service and operation, the failures, the known gaps.
Each scenario goes create → read → list → update → tag → delete, with at least one documented
error per service; each call cites the API reference page whose output members and errors it checks.
"""

import base64
import datetime
import hashlib
import io
import json
import re
import sys
import time
import zipfile
import zlib

from harness import BY, D, I, L, S, T, R, check, fails, gap, ok, scenario, until

DEV = '222222222222'
CI = '111111111111'
REGION = 'us-east-1'

ARN = re.compile(r'arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+')


def policy(action, resource='*', effect='Allow'):
    return json.dumps(
        {'Version': '2012-10-17', 'Statement': [{'Effect': effect, 'Action': action, 'Resource': resource}]}
    )


def trust(principal):
    return json.dumps(
        {
            'Version': '2012-10-17',
            'Statement': [{'Effect': 'Allow', 'Principal': principal, 'Action': 'sts:AssumeRole'}],
        }
    )


# ---- STS: https://docs.aws.amazon.com/STS/latest/APIReference/API_Operations.html ------------------


def sts_scenario():
    iam = R.client('iam')
    sts = R.client('sts')
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    ok(
        sts.get_caller_identity,
        {'UserId': S, 'Account': DEV, 'Arn': f'arn:aws:iam::{DEV}:root'},
    )
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
    ok(
        sts.get_session_token,
        {
            'Credentials.AccessKeyId': re.compile(r'ASIA[A-Z0-9]{16}'),
            'Credentials.SecretAccessKey': S,
            'Credentials.SessionToken': S,
            'Credentials.Expiration': T,
        },
        DurationSeconds=900,
    )
    # The root user's sessions last an hour at most: a longer duration "defaults to one hour" (DurationSeconds).
    ok(
        sts.get_session_token,
        {'Credentials.Expiration': lambda e: 3500 < (e - datetime.datetime.now(datetime.timezone.utc)).total_seconds() <= 3600},
        DurationSeconds=7200,
    )
    fails('ValidationError', 400, sts.get_session_token, DurationSeconds=129601)
    # A user who may assume a role of its account, whose trust policy names the account.
    ok(iam.create_user, UserName='sts-user')
    ok(iam.put_user_policy, UserName='sts-user', PolicyName='assume', PolicyDocument=policy('sts:AssumeRole'))
    key = ok(iam.create_access_key, UserName='sts-user')['AccessKey']
    ok(iam.create_role, RoleName='sts-role', AssumeRolePolicyDocument=trust({'AWS': f'arn:aws:iam::{DEV}:root'}))
    role_arn = f'arn:aws:iam::{DEV}:role/sts-role'
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html: root may not assume roles.
    fails('AccessDenied', 403, sts.assume_role, RoleArn=role_arn, RoleSessionName='root')
    user_sts = R.client('sts', creds=key)
    ok(user_sts.get_caller_identity, {'Arn': f'arn:aws:iam::{DEV}:user/sts-user', 'UserId': re.compile('AIDA.+')})
    session_policy = policy('s3:ListAllMyBuckets')
    assumed = ok(
        user_sts.assume_role,
        {
            'Credentials.AccessKeyId': re.compile(r'ASIA[A-Z0-9]{16}'),
            'Credentials.SessionToken': S,
            'Credentials.Expiration': T,
            'AssumedRoleUser.Arn': f'arn:aws:sts::{DEV}:assumed-role/sts-role/s1',
            'AssumedRoleUser.AssumedRoleId': re.compile(r'AROA[A-Z0-9]+:s1'),
            'PackedPolicySize': I,
            'SourceIdentity': 'me',
        },
        RoleArn=role_arn,
        RoleSessionName='s1',
        DurationSeconds=900,
        Policy=session_policy,
        SourceIdentity='me',
    )
    fails(
        'ValidationError',
        400,
        user_sts.assume_role,
        RoleArn=role_arn,
        RoleSessionName='a b',
    )
    # A role that does not exist is AccessDenied, as a trust policy that does not allow the caller.
    fails('AccessDenied', 403, user_sts.assume_role, RoleArn=f'arn:aws:iam::{DEV}:role/none', RoleSessionName='ss')
    role_sts = R.client('sts', creds=assumed['Credentials'])
    ok(role_sts.get_caller_identity, {'Arn': f'arn:aws:sts::{DEV}:assumed-role/sts-role/s1', 'UserId': re.compile(r'AROA[A-Z0-9]+:s1'), 'Account': DEV})
    # Longer than the role's MaxSessionDuration (3,600 s here): ValidationError (API_AssumeRole.html, DurationSeconds).
    fails('ValidationError', 400, user_sts.assume_role, message='MaxSessionDuration', RoleArn=role_arn, RoleSessionName='s2', DurationSeconds=7200)
    # GetSessionToken from session credentials is refused (API_GetSessionToken.html).
    fails('AccessDenied', 403, role_sts.get_session_token)


# ---- IAM: https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html ------------------


def iam_scenario():
    iam = R.client('iam')
    doc = trust({'AWS': f'arn:aws:iam::{DEV}:root'})
    role = {
        'Role.Path': '/b3/',
        'Role.RoleName': 'b3-role',
        'Role.RoleId': re.compile(r'AROA[A-Z0-9]{17}'),
        'Role.Arn': f'arn:aws:iam::{DEV}:role/b3/b3-role',
        'Role.CreateDate': T,
        'Role.AssumeRolePolicyDocument': json.loads(doc),
    }
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
    ok(
        iam.create_role,
        {**role, 'Role.Description': 'boto3', 'Role.MaxSessionDuration': 3600, 'Role.Tags.0': {'Key': 'a', 'Value': '1'}},
        RoleName='b3-role',
        Path='/b3/',
        AssumeRolePolicyDocument=doc,
        Description='boto3',
        Tags=[{'Key': 'a', 'Value': '1'}],
    )
    fails('EntityAlreadyExists', 409, iam.create_role, RoleName='b3-role', AssumeRolePolicyDocument=doc)
    fails('MalformedPolicyDocument', 400, iam.create_role, RoleName='b3-bad', AssumeRolePolicyDocument='{')
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
    ok(iam.get_role, {**role, 'Role.MaxSessionDuration': 3600, 'Role.RoleLastUsed': D}, RoleName='b3-role')
    fails('NoSuchEntity', 404, iam.get_role, RoleName='b3-none')
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html
    # Listing leaves out Tags and RoleLastUsed ("IAM resource-listing operations return a subset").
    r = ok(iam.list_roles, {'Roles.0.RoleName': 'b3-role', 'Roles.0.Arn': S, 'Roles.0.Description': 'boto3', 'IsTruncated': False}, absent=['Roles.0.Tags', 'Roles.0.RoleLastUsed'], PathPrefix='/b3/')
    if r and len(r['Roles']) != 1:
        R.fail('iam.list_roles', f"PathPrefix /b3/ listed {len(r['Roles'])} roles")
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html
    ok(iam.update_role, RoleName='b3-role', Description='changed', MaxSessionDuration=7200)
    ok(iam.get_role, {'Role.Description': 'changed', 'Role.MaxSessionDuration': 7200}, RoleName='b3-role')
    fails('ValidationError', 400, iam.update_role, RoleName='b3-role', MaxSessionDuration=60)
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html
    doc2 = trust({'Service': 'codebuild.amazonaws.com'})
    ok(iam.update_assume_role_policy, RoleName='b3-role', PolicyDocument=doc2)
    ok(iam.get_role, {'Role.AssumeRolePolicyDocument': json.loads(doc2)}, RoleName='b3-role')
    # Tags: API_TagRole.html, API_ListRoleTags.html, API_UntagRole.html
    ok(iam.tag_role, RoleName='b3-role', Tags=[{'Key': 'b', 'Value': '2'}])
    ok(
        iam.list_role_tags,
        {'Tags': [{'Key': 'a', 'Value': '1'}, {'Key': 'b', 'Value': '2'}], 'IsTruncated': False},
        RoleName='b3-role',
    )
    ok(iam.untag_role, RoleName='b3-role', TagKeys=['a'])
    ok(iam.list_role_tags, {'Tags': [{'Key': 'b', 'Value': '2'}]}, RoleName='b3-role')
    fails('NoSuchEntity', 404, iam.tag_role, RoleName='b3-none', Tags=[{'Key': 'b', 'Value': '2'}])
    # Inline role policies: API_PutRolePolicy.html, API_GetRolePolicy.html, API_ListRolePolicies.html
    inline = policy('s3:GetObject', 'arn:aws:s3:::b3/*')
    ok(iam.put_role_policy, RoleName='b3-role', PolicyName='inline', PolicyDocument=inline)
    ok(
        iam.get_role_policy,
        {'RoleName': 'b3-role', 'PolicyName': 'inline', 'PolicyDocument': json.loads(inline)},
        RoleName='b3-role',
        PolicyName='inline',
    )
    ok(iam.list_role_policies, {'PolicyNames': ['inline'], 'IsTruncated': False}, RoleName='b3-role')
    fails('NoSuchEntity', 404, iam.get_role_policy, RoleName='b3-role', PolicyName='none')
    fails('MalformedPolicyDocument', 400, iam.put_role_policy, RoleName='b3-role', PolicyName='x', PolicyDocument='[]')

    # Managed policies: API_CreatePolicy.html, API_GetPolicy.html, API_ListPolicies.html
    pol = {
        'Policy.PolicyName': 'b3-policy',
        'Policy.PolicyId': re.compile(r'ANPA[A-Z0-9]{17}'),
        'Policy.Arn': f'arn:aws:iam::{DEV}:policy/b3/b3-policy',
        'Policy.Path': '/b3/',
        'Policy.DefaultVersionId': 'v1',
        'Policy.AttachmentCount': 0,
        'Policy.IsAttachable': True,
        'Policy.CreateDate': T,
        'Policy.UpdateDate': T,
    }
    arn = ok(
        iam.create_policy, pol, PolicyName='b3-policy', Path='/b3/', PolicyDocument=inline, Description='d'
    )['Policy']['Arn']
    fails('EntityAlreadyExists', 409, iam.create_policy, PolicyName='b3-policy', Path='/b3/', PolicyDocument=inline)
    ok(iam.get_policy, {**pol, 'Policy.Description': 'd'}, PolicyArn=arn)
    fails('NoSuchEntity', 404, iam.get_policy, PolicyArn=f'arn:aws:iam::{DEV}:policy/none')
    ok(iam.list_policies, {'Policies.0.Arn': arn, 'IsTruncated': False}, Scope='Local', PathPrefix='/b3/')
    page = ok(iam.list_policies, {'Policies.1.Arn': re.compile(r'arn:aws:iam::aws:policy/.+'), 'IsTruncated': True, 'Marker': S}, Scope='AWS', MaxItems=2)
    if page:
        ok(iam.list_policies, {'Policies.0.Arn': lambda a: a not in [p['Arn'] for p in page['Policies']]}, Scope='AWS', MaxItems=2, Marker=page['Marker'])
    # Versions: API_CreatePolicyVersion.html, API_GetPolicyVersion.html, API_ListPolicyVersions.html,
    # API_SetDefaultPolicyVersion.html, API_DeletePolicyVersion.html
    inline2 = policy('s3:PutObject', 'arn:aws:s3:::b3/*')
    ok(
        iam.create_policy_version,
        {'PolicyVersion.VersionId': 'v2', 'PolicyVersion.IsDefaultVersion': True, 'PolicyVersion.CreateDate': T},
        PolicyArn=arn,
        PolicyDocument=inline2,
        SetAsDefault=True,
    )
    ok(
        iam.get_policy_version,
        {'PolicyVersion.Document': json.loads(inline), 'PolicyVersion.VersionId': 'v1', 'PolicyVersion.IsDefaultVersion': False, 'PolicyVersion.CreateDate': T},
        PolicyArn=arn,
        VersionId='v1',
    )
    fails('NoSuchEntity', 404, iam.get_policy_version, PolicyArn=arn, VersionId='v9')
    ok(iam.list_policy_versions, {'Versions.0.VersionId': S, 'Versions.1.VersionId': S, 'IsTruncated': False}, PolicyArn=arn)
    ok(iam.set_default_policy_version, PolicyArn=arn, VersionId='v1')
    ok(iam.get_policy, {'Policy.DefaultVersionId': 'v1'}, PolicyArn=arn)
    fails('DeleteConflict', 409, iam.delete_policy_version, PolicyArn=arn, VersionId='v1')
    ok(iam.delete_policy_version, PolicyArn=arn, VersionId='v2')
    # Attachments: API_AttachRolePolicy.html, API_ListAttachedRolePolicies.html, API_DetachRolePolicy.html
    ok(iam.attach_role_policy, RoleName='b3-role', PolicyArn=arn)
    ok(
        iam.list_attached_role_policies,
        {'AttachedPolicies': [{'PolicyName': 'b3-policy', 'PolicyArn': arn}], 'IsTruncated': False},
        RoleName='b3-role',
    )
    ok(iam.get_policy, {'Policy.AttachmentCount': 1}, PolicyArn=arn)
    fails('DeleteConflict', 409, iam.delete_policy, PolicyArn=arn)
    fails('DeleteConflict', 409, iam.delete_role, RoleName='b3-role')
    ok(iam.detach_role_policy, RoleName='b3-role', PolicyArn=arn)
    fails('NoSuchEntity', 404, iam.detach_role_policy, RoleName='b3-role', PolicyArn=arn)
    ok(iam.delete_role_policy, RoleName='b3-role', PolicyName='inline')
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html
    ok(iam.delete_role, RoleName='b3-role')
    fails('NoSuchEntity', 404, iam.delete_role, RoleName='b3-role')

    # Users: API_CreateUser.html, API_GetUser.html, API_ListUsers.html
    user = {
        'User.Path': '/b3/',
        'User.UserName': 'b3-user',
        'User.UserId': re.compile(r'AIDA[A-Z0-9]{17}'),
        'User.Arn': f'arn:aws:iam::{DEV}:user/b3/b3-user',
        'User.CreateDate': T,
    }
    ok(iam.create_user, {**user, 'User.Tags': [{'Key': 'team', 'Value': 'b3'}]}, UserName='b3-user', Path='/b3/', Tags=[{'Key': 'team', 'Value': 'b3'}])
    fails('EntityAlreadyExists', 409, iam.create_user, UserName='b3-user')
    ok(iam.get_user, user, UserName='b3-user')
    fails('NoSuchEntity', 404, iam.get_user, UserName='b3-none')
    ok(iam.get_user, {'User.Tags': [{'Key': 'team', 'Value': 'b3'}]}, UserName='b3-user')
    ok(iam.list_users, {'Users.0.UserName': 'b3-user', 'Users.0.Arn': S, 'IsTruncated': False}, absent=['Users.0.Tags'], PathPrefix='/b3/')
    # Inline and managed user policies: API_PutUserPolicy.html … API_DetachUserPolicy.html
    ok(iam.put_user_policy, UserName='b3-user', PolicyName='inline', PolicyDocument=inline)
    ok(
        iam.get_user_policy,
        {'UserName': 'b3-user', 'PolicyName': 'inline', 'PolicyDocument': json.loads(inline)},
        UserName='b3-user',
        PolicyName='inline',
    )
    ok(iam.list_user_policies, {'PolicyNames': ['inline'], 'IsTruncated': False}, UserName='b3-user')
    fails('NoSuchEntity', 404, iam.get_user_policy, UserName='b3-user', PolicyName='none')
    ok(iam.attach_user_policy, UserName='b3-user', PolicyArn=arn)
    ok(
        iam.list_attached_user_policies,
        {'AttachedPolicies': [{'PolicyName': 'b3-policy', 'PolicyArn': arn}], 'IsTruncated': False},
        UserName='b3-user',
    )
    fails('NoSuchEntity', 404, iam.attach_user_policy, UserName='b3-user', PolicyArn=f'arn:aws:iam::{DEV}:policy/none')
    # Access keys: API_CreateAccessKey.html, API_ListAccessKeys.html, API_UpdateAccessKey.html, API_DeleteAccessKey.html
    key = ok(
        iam.create_access_key,
        {
            'AccessKey.UserName': 'b3-user',
            'AccessKey.AccessKeyId': re.compile(r'AKIA[A-Z0-9]{16}'),
            'AccessKey.Status': 'Active',
            'AccessKey.SecretAccessKey': S,
            'AccessKey.CreateDate': T,
        },
        UserName='b3-user',
    )['AccessKey']
    akid = key['AccessKeyId']
    ok(
        iam.list_access_keys,
        {'AccessKeyMetadata': [{'UserName': 'b3-user', 'AccessKeyId': akid, 'Status': 'Active', 'CreateDate': T}], 'IsTruncated': False},
        UserName='b3-user',
    )
    ok(iam.update_access_key, UserName='b3-user', AccessKeyId=akid, Status='Inactive')
    ok(iam.list_access_keys, {'AccessKeyMetadata.0.Status': 'Inactive'}, UserName='b3-user')
    # An inactive key signs nothing: InvalidClientTokenId (STS's CommonErrors).
    fails('InvalidClientTokenId', 403, R.client('sts', creds=key).get_caller_identity)
    fails('NoSuchEntity', 404, iam.update_access_key, UserName='b3-user', AccessKeyId='AKIAIOSFODNN7EXAMPLE', Status='Active')
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html: DeleteConflict while it has keys or policies.
    fails('DeleteConflict', 409, iam.delete_user, UserName='b3-user')
    ok(iam.delete_access_key, UserName='b3-user', AccessKeyId=akid)
    ok(iam.list_access_keys, {'AccessKeyMetadata': []}, UserName='b3-user')
    ok(iam.detach_user_policy, UserName='b3-user', PolicyArn=arn)
    ok(iam.list_attached_user_policies, {'AttachedPolicies': []}, UserName='b3-user')
    ok(iam.delete_user_policy, UserName='b3-user', PolicyName='inline')
    ok(iam.list_user_policies, {'PolicyNames': []}, UserName='b3-user')
    ok(iam.delete_user, UserName='b3-user')
    fails('NoSuchEntity', 404, iam.delete_user, UserName='b3-user')
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicy.html
    ok(iam.delete_policy, PolicyArn=arn)
    fails('NoSuchEntity', 404, iam.get_policy, PolicyArn=arn)
    # AWS managed policies belong to AWS.
    fails('AccessDenied', 403, iam.delete_policy, PolicyArn='arn:aws:iam::aws:policy/ReadOnlyAccess')


# ---- KMS: https://docs.aws.amazon.com/kms/latest/APIReference/API_Operations.html ------------------


def kms_scenario():
    kms = R.client('kms')
    meta = {
        'KeyMetadata.KeyId': re.compile(r'[0-9a-f-]{36}'),
        'KeyMetadata.Arn': re.compile(rf'arn:aws:kms:{REGION}:{DEV}:key/[0-9a-f-]{{36}}'),
        'KeyMetadata.AWSAccountId': DEV,
        'KeyMetadata.CreationDate': T,
        'KeyMetadata.Enabled': True,
        'KeyMetadata.KeyState': 'Enabled',
        'KeyMetadata.KeyUsage': 'ENCRYPT_DECRYPT',
        'KeyMetadata.KeySpec': 'SYMMETRIC_DEFAULT',
        'KeyMetadata.Origin': 'AWS_KMS',
        'KeyMetadata.KeyManager': 'CUSTOMER',
        'KeyMetadata.EncryptionAlgorithms': ['SYMMETRIC_DEFAULT'],
        'KeyMetadata.MultiRegion': False,
        'KeyMetadata.Description': 'boto3',
    }
    # https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
    key = ok(kms.create_key, meta, Description='boto3', Tags=[{'TagKey': 'a', 'TagValue': '1'}])['KeyMetadata']
    kid, karn = key['KeyId'], key['Arn']
    other = ok(kms.create_key, {'KeyMetadata.KeyId': S})['KeyMetadata']['KeyId']
    # https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
    ok(kms.describe_key, meta, KeyId=kid)
    ok(kms.describe_key, {'KeyMetadata.KeyId': kid}, KeyId=karn)
    fails('NotFoundException', 400, kms.describe_key, KeyId='00000000-0000-0000-0000-000000000000')
    # https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeys.html
    keys = ok(kms.list_keys, {'Keys.0.KeyId': S, 'Keys.0.KeyArn': ARN, 'Truncated': False})
    if keys and kid not in [k['KeyId'] for k in keys['Keys']]:
        R.fail('kms.list_keys', f'{kid} is not listed')
    first = ok(kms.list_keys, {'Keys': lambda ks: len(ks) == 1, 'Truncated': True, 'NextMarker': S}, Limit=1)
    if first:
        ok(kms.list_keys, {'Keys.0.KeyId': lambda k: k != first['Keys'][0]['KeyId']}, Limit=1, Marker=first['NextMarker'])
    # https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateKeyDescription.html
    ok(kms.update_key_description, KeyId=kid, Description='changed')
    ok(kms.describe_key, {'KeyMetadata.Description': 'changed'}, KeyId=kid)
    # Key policy: API_GetKeyPolicy.html, API_PutKeyPolicy.html
    got = ok(kms.get_key_policy, {'Policy': S}, KeyId=kid, PolicyName='default')
    if got:
        json.loads(got['Policy'])
    key_policy = json.dumps(
        {
            'Version': '2012-10-17',
            'Statement': [
                {'Sid': 'root', 'Effect': 'Allow', 'Principal': {'AWS': f'arn:aws:iam::{DEV}:root'}, 'Action': 'kms:*', 'Resource': '*'}
            ],
        }
    )
    ok(kms.put_key_policy, KeyId=kid, PolicyName='default', Policy=key_policy)
    ok(kms.get_key_policy, {'Policy': lambda p: json.loads(p) == json.loads(key_policy)}, KeyId=kid, PolicyName='default')
    fails('MalformedPolicyDocumentException', 400, kms.put_key_policy, KeyId=kid, PolicyName='default', Policy='{')
    # Rotation: API_EnableKeyRotation.html, API_GetKeyRotationStatus.html, API_DisableKeyRotation.html
    ok(kms.get_key_rotation_status, {'KeyRotationEnabled': False}, KeyId=kid)
    ok(kms.enable_key_rotation, KeyId=kid, RotationPeriodInDays=180)
    in_days = lambda n: lambda d: abs((d - datetime.datetime.now(datetime.timezone.utc)).total_seconds() - n * 86400) < 120
    ok(kms.get_key_rotation_status, {'KeyRotationEnabled': True, 'KeyId': karn, 'RotationPeriodInDays': 180, 'NextRotationDate': in_days(180)}, KeyId=kid)
    fails('ValidationException', 400, kms.enable_key_rotation, KeyId=kid, RotationPeriodInDays=30)
    ok(kms.disable_key_rotation, KeyId=kid)
    ok(kms.get_key_rotation_status, {'KeyRotationEnabled': False}, KeyId=kid)
    # Aliases: API_CreateAlias.html, API_ListAliases.html, API_UpdateAlias.html, API_DeleteAlias.html
    ok(kms.create_alias, AliasName='alias/b3', TargetKeyId=kid)
    fails('AlreadyExistsException', 400, kms.create_alias, AliasName='alias/b3', TargetKeyId=kid)
    fails('NotFoundException', 400, kms.create_alias, AliasName='alias/b3-x', TargetKeyId='00000000-0000-0000-0000-000000000000')
    ok(
        kms.list_aliases,
        {
            'Aliases.0.AliasName': 'alias/b3',
            'Aliases.0.AliasArn': f'arn:aws:kms:{REGION}:{DEV}:alias/b3',
            'Aliases.0.TargetKeyId': kid,
            'Truncated': False,
        },
        KeyId=kid,
    )
    # Cryptography: API_Encrypt.html, API_Decrypt.html, API_ReEncrypt.html, API_GenerateDataKey*.html
    enc = ok(
        kms.encrypt,
        {'CiphertextBlob': BY, 'KeyId': karn, 'EncryptionAlgorithm': 'SYMMETRIC_DEFAULT'},
        KeyId='alias/b3',
        Plaintext=b'secret',
        EncryptionContext={'app': 'b3'},
    )
    blob = enc['CiphertextBlob']
    ok(
        kms.decrypt,
        {'Plaintext': b'secret', 'KeyId': karn, 'EncryptionAlgorithm': 'SYMMETRIC_DEFAULT'},
        CiphertextBlob=blob,
        EncryptionContext={'app': 'b3'},
    )
    fails('InvalidCiphertextException', 400, kms.decrypt, CiphertextBlob=blob, EncryptionContext={'app': 'other'})
    fails('InvalidCiphertextException', 400, kms.decrypt, CiphertextBlob=b'not a ciphertext at all')
    ok(kms.update_alias, AliasName='alias/b3', TargetKeyId=other)
    ok(kms.list_aliases, {'Aliases.0.TargetKeyId': other}, KeyId=other)
    re_enc = ok(
        kms.re_encrypt,
        {
            'CiphertextBlob': BY,
            'SourceKeyId': karn,
            'KeyId': re.compile(rf'arn:aws:kms:{REGION}:{DEV}:key/{other}'),
            'SourceEncryptionAlgorithm': 'SYMMETRIC_DEFAULT',
            'DestinationEncryptionAlgorithm': 'SYMMETRIC_DEFAULT',
        },
        CiphertextBlob=blob,
        SourceEncryptionContext={'app': 'b3'},
        DestinationKeyId='alias/b3',
    )
    ok(kms.decrypt, {'Plaintext': b'secret'}, CiphertextBlob=re_enc['CiphertextBlob'])
    ok(
        kms.generate_data_key,
        {'CiphertextBlob': BY, 'Plaintext': lambda p: isinstance(p, bytes) and len(p) == 32, 'KeyId': karn},
        KeyId=kid,
        KeySpec='AES_256',
    )
    ok(
        kms.generate_data_key_without_plaintext,
        {'CiphertextBlob': BY, 'KeyId': karn},
        absent=['Plaintext'],
        KeyId=kid,
        NumberOfBytes=16,
    )
    ok(kms.delete_alias, AliasName='alias/b3')
    fails('NotFoundException', 400, kms.delete_alias, AliasName='alias/b3')
    # Tags: API_TagResource.html, API_ListResourceTags.html, API_UntagResource.html
    ok(kms.tag_resource, KeyId=kid, Tags=[{'TagKey': 'b', 'TagValue': '2'}])
    ok(
        kms.list_resource_tags,
        {'Tags': [{'TagKey': 'a', 'TagValue': '1'}, {'TagKey': 'b', 'TagValue': '2'}], 'Truncated': False},
        KeyId=kid,
    )
    ok(kms.untag_resource, KeyId=kid, TagKeys=['a'])
    ok(kms.list_resource_tags, {'Tags': [{'TagKey': 'b', 'TagValue': '2'}]}, KeyId=kid)
    # https://docs.aws.amazon.com/kms/latest/APIReference/API_ListGrants.html
    ok(kms.list_grants, {'Grants': [], 'Truncated': False}, KeyId=kid)
    # Enable and disable: API_DisableKey.html, API_EnableKey.html; a disabled key is DisabledException.
    ok(kms.disable_key, KeyId=kid)
    ok(kms.describe_key, {'KeyMetadata.Enabled': False, 'KeyMetadata.KeyState': 'Disabled'}, KeyId=kid)
    fails('DisabledException', 400, kms.encrypt, KeyId=kid, Plaintext=b'x')
    ok(kms.enable_key, KeyId=kid)
    ok(kms.describe_key, {'KeyMetadata.KeyState': 'Enabled'}, KeyId=kid)
    # Deletion: API_ScheduleKeyDeletion.html, API_CancelKeyDeletion.html
    ok(
        kms.schedule_key_deletion,
        {'KeyId': karn, 'DeletionDate': T, 'KeyState': 'PendingDeletion', 'PendingWindowInDays': 7},
        KeyId=kid,
        PendingWindowInDays=7,
    )
    ok(kms.describe_key, {'KeyMetadata.KeyState': 'PendingDeletion', 'KeyMetadata.DeletionDate': T}, KeyId=kid)
    fails('KMSInvalidStateException', 400, kms.encrypt, KeyId=kid, Plaintext=b'x')
    ok(kms.cancel_key_deletion, {'KeyId': karn}, KeyId=kid)
    # A key whose deletion is cancelled is disabled (API_CancelKeyDeletion.html).
    ok(kms.describe_key, {'KeyMetadata.KeyState': 'Disabled'}, absent=['KeyMetadata.DeletionDate'], KeyId=kid)
    ok(kms.schedule_key_deletion, {'KeyState': 'PendingDeletion'}, KeyId=other, PendingWindowInDays=30)



# ---- SSM Parameter Store: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Operations.html


def ssm_scenario():
    ssm = R.client('ssm')
    a, b = '/b3/app/a', '/b3/app/deep/b'
    # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    ok(ssm.put_parameter, {'Version': 1, 'Tier': 'Standard'}, Name=a, Value='one', Type='String', Description='d', Tags=[{'Key': 't', 'Value': '1'}])
    fails('ParameterAlreadyExists', 400, ssm.put_parameter, Name=a, Value='two', Type='String')
    ok(ssm.put_parameter, {'Version': 2, 'Tier': 'Standard'}, Name=a, Value='two', Overwrite=True)
    ok(ssm.put_parameter, {'Version': 1}, Name=b, Value='x,y', Type='StringList')
    # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
    param = {
        'Parameter.Name': a,
        'Parameter.Type': 'String',
        'Parameter.Value': 'two',
        'Parameter.Version': 2,
        'Parameter.LastModifiedDate': T,
        'Parameter.ARN': f'arn:aws:ssm:{REGION}:{DEV}:parameter{a}',
        'Parameter.DataType': 'text',
    }
    ok(ssm.get_parameter, param, Name=a)
    ok(ssm.get_parameter, {'Parameter.Value': 'one', 'Parameter.Version': 1, 'Parameter.Selector': ':1'}, Name=f'{a}:1')
    fails('ParameterNotFound', 400, ssm.get_parameter, Name='/b3/none')
    fails('ParameterVersionNotFound', 400, ssm.get_parameter, Name=f'{a}:9')
    # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
    ok(
        ssm.get_parameters,
        {'Parameters.0.Name': a, 'Parameters.0.Value': 'two', 'InvalidParameters': ['/b3/none']},
        Names=[a, '/b3/none'],
    )
    # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html
    one = ok(ssm.get_parameters_by_path, {'Parameters.0.Name': a}, Path='/b3/app')
    if one and len(one['Parameters']) != 1:
        R.fail('ssm.get_parameters_by_path', f"one level listed {[p['Name'] for p in one['Parameters']]}")
    deep = ok(ssm.get_parameters_by_path, {'Parameters.1.Value': S}, Path='/b3', Recursive=True)
    if deep and sorted(p['Name'] for p in deep['Parameters']) != [a, b]:
        R.fail('ssm.get_parameters_by_path', f"recursive listed {[p['Name'] for p in deep['Parameters']]}")
    # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameterHistory.html
    ok(
        ssm.get_parameter_history,
        {
            'Parameters.0.Name': a,
            'Parameters.0.Value': 'one',
            'Parameters.0.Version': 1,
            'Parameters.0.LastModifiedDate': T,
            'Parameters.0.LastModifiedUser': f'arn:aws:iam::{DEV}:root',
            'Parameters.0.Description': 'd',
            'Parameters.1.Value': 'two',
            'Parameters.1.Version': 2,
        },
        Name=a,
    )
    fails('ParameterNotFound', 400, ssm.get_parameter_history, Name='/b3/none')
    # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeParameters.html
    ok(
        ssm.describe_parameters,
        {
            'Parameters': lambda ps: [p['Name'] for p in ps] == [a],
            'Parameters.0.Type': 'String',
            'Parameters.0.Version': 2,
            'Parameters.0.LastModifiedDate': T,
            'Parameters.0.ARN': S,
            'Parameters.0.Tier': 'Standard',
            'Parameters.0.DataType': 'text',
        },
        ParameterFilters=[{'Key': 'Name', 'Option': 'Equals', 'Values': [a]}],
    )
    # Tags: API_AddTagsToResource.html, API_ListTagsForResource.html, API_RemoveTagsFromResource.html
    ok(ssm.add_tags_to_resource, ResourceType='Parameter', ResourceId=a, Tags=[{'Key': 'u', 'Value': '2'}])
    ok(
        ssm.list_tags_for_resource,
        {'TagList': lambda ts: sorted((t['Key'], t['Value']) for t in ts) == [('t', '1'), ('u', '2')]},
        ResourceType='Parameter',
        ResourceId=a,
    )
    ok(ssm.remove_tags_from_resource, ResourceType='Parameter', ResourceId=a, TagKeys=['t'])
    ok(ssm.list_tags_for_resource, {'TagList': [{'Key': 'u', 'Value': '2'}]}, ResourceType='Parameter', ResourceId=a)
    fails('InvalidResourceId', 400, ssm.list_tags_for_resource, ResourceType='Parameter', ResourceId='/b3/none')
    # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DeleteParameter.html
    ok(ssm.delete_parameter, Name=a)
    fails('ParameterNotFound', 400, ssm.delete_parameter, Name=a)
    # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DeleteParameters.html
    ok(ssm.delete_parameters, {'DeletedParameters': [b], 'InvalidParameters': ['/b3/none']}, Names=[b, '/b3/none'])


# ---- ECR: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_Operations.html ------------

# Container images are not stored by the sandbox: these operations are refused with
# UnknownOperationException and a sentence saying so (src/sandbox/services/ecr/SPEC.md).
ECR_IMAGE_CALLS = {
    'get_authorization_token': {},
    'batch_check_layer_availability': {'repositoryName': 'b3/app', 'layerDigests': ['sha256:' + '0' * 64]},
    'batch_delete_image': {'repositoryName': 'b3/app', 'imageIds': [{'imageTag': 'v1'}]},
    'batch_get_image': {'repositoryName': 'b3/app', 'imageIds': [{'imageTag': 'v1'}]},
    'complete_layer_upload': {'repositoryName': 'b3/app', 'uploadId': '0b0e2e51-6a4c-4a7e-9d0e-3c1f6f9a2b11', 'layerDigests': ['sha256:' + '0' * 64]},
    'describe_images': {'repositoryName': 'b3/app'},
    'describe_image_scan_findings': {'repositoryName': 'b3/app', 'imageId': {'imageTag': 'v1'}},
    'get_download_url_for_layer': {'repositoryName': 'b3/app', 'layerDigest': 'sha256:' + '0' * 64},
    'initiate_layer_upload': {'repositoryName': 'b3/app'},
    'list_images': {'repositoryName': 'b3/app'},
    'put_image': {'repositoryName': 'b3/app', 'imageManifest': '{}', 'imageTag': 'v1'},
    'start_image_scan': {'repositoryName': 'b3/app', 'imageId': {'imageTag': 'v1'}},
    'upload_layer_part': {'repositoryName': 'b3/app', 'uploadId': '0b0e2e51-6a4c-4a7e-9d0e-3c1f6f9a2b11', 'partFirstByte': 0, 'partLastByte': 0, 'layerPartBlob': b'x'},
}


def ecr_scenario():
    ecr = R.client('ecr')
    name = 'b3/app'
    arn = f'arn:aws:ecr:{REGION}:{DEV}:repository/{name}'
    repo = {
        'repository.repositoryArn': arn,
        'repository.registryId': DEV,
        'repository.repositoryName': name,
        'repository.repositoryUri': f'{DEV}.dkr.ecr.{REGION}.amazonaws.com/{name}',
        'repository.createdAt': T,
        'repository.imageTagMutability': 'IMMUTABLE',
        'repository.imageScanningConfiguration': {'scanOnPush': False},
        'repository.encryptionConfiguration': {'encryptionType': 'AES256'},
    }
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
    ok(ecr.create_repository, repo, repositoryName=name, imageTagMutability='IMMUTABLE', tags=[{'Key': 'a', 'Value': '1'}])
    fails('RepositoryAlreadyExistsException', 400, ecr.create_repository, repositoryName=name)
    fails('InvalidParameterException', 400, ecr.create_repository, repositoryName='Bad Name')
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeRepositories.html
    ok(ecr.describe_repositories, {'repositories.0.repositoryArn': arn, 'repositories.0.createdAt': T}, repositoryNames=[name])
    listed = ok(ecr.describe_repositories, {'repositories': L})
    if listed and name not in [r['repositoryName'] for r in listed['repositories']]:
        R.fail('ecr.describe_repositories', f'{name} is not listed')
    fails('RepositoryNotFoundException', 400, ecr.describe_repositories, repositoryNames=['b3/none'])
    # Lifecycle policies: API_PutLifecyclePolicy.html, API_GetLifecyclePolicy.html, API_DeleteLifecyclePolicy.html
    lifecycle = json.dumps(
        {
            'rules': [
                {
                    'rulePriority': 1,
                    'selection': {'tagStatus': 'untagged', 'countType': 'sinceImagePushed', 'countUnit': 'days', 'countNumber': 14},
                    'action': {'type': 'expire'},
                }
            ]
        }
    )
    fails('LifecyclePolicyNotFoundException', 400, ecr.get_lifecycle_policy, repositoryName=name)
    ok(ecr.put_lifecycle_policy, {'registryId': DEV, 'repositoryName': name, 'lifecyclePolicyText': S}, repositoryName=name, lifecyclePolicyText=lifecycle)
    ok(
        ecr.get_lifecycle_policy,
        {'registryId': DEV, 'repositoryName': name, 'lifecyclePolicyText': lambda t: json.loads(t) == json.loads(lifecycle)},
        repositoryName=name,
    )
    ok(ecr.delete_lifecycle_policy, {'registryId': DEV, 'repositoryName': name, 'lifecyclePolicyText': S}, repositoryName=name)
    fails('LifecyclePolicyNotFoundException', 400, ecr.delete_lifecycle_policy, repositoryName=name)
    # Repository policies: API_SetRepositoryPolicy.html, API_GetRepositoryPolicy.html, API_DeleteRepositoryPolicy.html
    pull = json.dumps(
        {
            'Version': '2012-10-17',
            'Statement': [
                {'Sid': 'pull', 'Effect': 'Allow', 'Principal': {'AWS': f'arn:aws:iam::{CI}:root'}, 'Action': ['ecr:BatchGetImage']}
            ],
        }
    )
    fails('RepositoryPolicyNotFoundException', 400, ecr.get_repository_policy, repositoryName=name)
    ok(ecr.set_repository_policy, {'registryId': DEV, 'repositoryName': name, 'policyText': S}, repositoryName=name, policyText=pull)
    ok(
        ecr.get_repository_policy,
        {'registryId': DEV, 'repositoryName': name, 'policyText': lambda t: json.loads(t) == json.loads(pull)},
        repositoryName=name,
    )
    ok(ecr.delete_repository_policy, {'registryId': DEV, 'repositoryName': name, 'policyText': S}, repositoryName=name)
    fails('RepositoryPolicyNotFoundException', 400, ecr.delete_repository_policy, repositoryName=name)
    # Settings: API_PutImageScanningConfiguration.html, API_PutImageTagMutability.html
    ok(
        ecr.put_image_scanning_configuration,
        {'registryId': DEV, 'repositoryName': name, 'imageScanningConfiguration': {'scanOnPush': True}},
        repositoryName=name,
        imageScanningConfiguration={'scanOnPush': True},
    )
    ok(
        ecr.put_image_tag_mutability,
        {'registryId': DEV, 'repositoryName': name, 'imageTagMutability': 'MUTABLE'},
        repositoryName=name,
        imageTagMutability='MUTABLE',
    )
    ok(
        ecr.describe_repositories,
        {'repositories.0.imageTagMutability': 'MUTABLE', 'repositories.0.imageScanningConfiguration': {'scanOnPush': True}},
        repositoryNames=[name],
    )
    # Tags: API_TagResource.html, API_ListTagsForResource.html, API_UntagResource.html
    ok(ecr.tag_resource, resourceArn=arn, tags=[{'Key': 'b', 'Value': '2'}])
    ok(
        ecr.list_tags_for_resource,
        {'tags': lambda ts: sorted((t['Key'], t['Value']) for t in ts) == [('a', '1'), ('b', '2')]},
        resourceArn=arn,
    )
    ok(ecr.untag_resource, resourceArn=arn, tagKeys=['a'])
    ok(ecr.list_tags_for_resource, {'tags': [{'Key': 'b', 'Value': '2'}]}, resourceArn=arn)
    # The image operations: refused, in ECR's protocol, with the reason.
    for op, kwargs in ECR_IMAGE_CALLS.items():
        fails('UnknownOperationException', 400, getattr(ecr, op), message='not supported by the crosspipe sandbox', **kwargs)
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRepository.html
    ok(ecr.delete_repository, {'repository.repositoryArn': arn, 'repository.repositoryName': name, 'repository.createdAt': T}, repositoryName=name)
    fails('RepositoryNotFoundException', 400, ecr.delete_repository, repositoryName=name)



# ---- S3: https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html


def s3_scenario():
    s3 = R.client('s3')
    bucket = 'b3-bucket'
    etag = re.compile(r'"[0-9a-f]{32}"')
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
    ok(s3.create_bucket, {'Location': f'/{bucket}'}, Bucket=bucket)
    fails('BucketAlreadyExists', 409, R.client('s3', profile='prod').create_bucket, Bucket=bucket)
    fails('InvalidBucketName', 400, s3.create_bucket, Bucket='Bad_Bucket')
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html (a HEAD error has no body: the code is the status)
    ok(s3.head_bucket, {'BucketRegion': REGION}, Bucket=bucket)
    fails('404', 404, s3.head_bucket, Bucket='b3-none')
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
    ok(s3.list_buckets, {'Buckets': lambda bs: [b['Name'] for b in bs] == [bucket], 'Buckets.0.CreationDate': T, 'Owner.ID': S})
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html: null for us-east-1.
    ok(s3.get_bucket_location, {'LocationConstraint': lambda v: v is None}, Bucket=bucket)
    fails('NoSuchBucket', 404, s3.get_bucket_location, Bucket='b3-none')

    # Objects: API_PutObject.html, API_GetObject.html, API_HeadObject.html, API_CopyObject.html
    body = b'hello, boto3'
    md5 = hashlib.md5(body).hexdigest()
    # boto3 sends a CRC32 checksum of the body; S3 answers it (and SSE-S3, the default encryption).
    ok(
        s3.put_object,
        {'ETag': f'"{md5}"', 'ChecksumCRC32': base64.b64encode(zlib.crc32(body).to_bytes(4, 'big')).decode(), 'ServerSideEncryption': 'AES256'},
        Bucket=bucket,
        Key='a.txt',
        Body=body,
        ContentType='text/plain',
        Metadata={'who': 'b3'},
    )
    fails('BadDigest', 400, s3.put_object, Bucket=bucket, Key='bad.txt', Body=body, ChecksumCRC32='AAAAAA==')
    got = ok(
        s3.get_object,
        {'ETag': f'"{md5}"', 'ContentLength': len(body), 'ContentType': 'text/plain', 'LastModified': T, 'Metadata': {'who': 'b3'}},
        Bucket=bucket,
        Key='a.txt',
    )
    if got and got['Body'].read() != body:
        R.fail('s3.get_object', 'the body is not what was put')
    ok(s3.get_object, {'ContentRange': f'bytes 0-4/{len(body)}', 'ContentLength': 5}, status=206, Bucket=bucket, Key='a.txt', Range='bytes=0-4')
    fails('NoSuchKey', 404, s3.get_object, Bucket=bucket, Key='none')
    fails('NoSuchBucket', 404, s3.get_object, Bucket='b3-none', Key='a.txt')
    ok(
        s3.head_object,
        {'ETag': f'"{md5}"', 'ContentLength': len(body), 'ContentType': 'text/plain', 'LastModified': T, 'Metadata': {'who': 'b3'}, 'AcceptRanges': 'bytes', 'ServerSideEncryption': 'AES256'},
        Bucket=bucket,
        Key='a.txt',
    )
    ok(s3.head_object, {'ChecksumCRC32': S}, Bucket=bucket, Key='a.txt', ChecksumMode='ENABLED')
    fails('404', 404, s3.head_object, Bucket=bucket, Key='none')
    ok(s3.copy_object, {'CopyObjectResult.ETag': f'"{md5}"', 'CopyObjectResult.LastModified': T}, Bucket=bucket, Key='b.txt', CopySource={'Bucket': bucket, 'Key': 'a.txt'})
    fails('NoSuchKey', 404, s3.copy_object, Bucket=bucket, Key='c.txt', CopySource={'Bucket': bucket, 'Key': 'none'})
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html: the ETag without quotes.
    ok(
        s3.get_object_attributes,
        {'ETag': md5, 'ObjectSize': len(body), 'StorageClass': 'STANDARD', 'LastModified': T},
        Bucket=bucket,
        Key='a.txt',
        ObjectAttributes=['ETag', 'ObjectSize', 'StorageClass'],
    )
    # Listing: API_ListObjectsV2.html, API_ListObjects.html
    ok(
        s3.list_objects_v2,
        {
            'Name': bucket,
            'KeyCount': 2,
            'MaxKeys': 1000,
            'IsTruncated': False,
            'Contents.0.Key': 'a.txt',
            'Contents.0.Size': len(body),
            'Contents.0.ETag': etag,
            'Contents.0.LastModified': T,
            'Contents.0.StorageClass': 'STANDARD',
        },
        Bucket=bucket,
    )
    ok(s3.list_objects_v2, {'KeyCount': 1, 'IsTruncated': True, 'NextContinuationToken': S}, Bucket=bucket, MaxKeys=1)
    ok(s3.list_objects, {'Name': bucket, 'IsTruncated': False, 'Contents.1.Key': 'b.txt', 'Contents.1.Owner.ID': S}, Bucket=bucket)
    fails('NoSuchBucket', 404, s3.list_objects_v2, Bucket='b3-none')
    # Object tags: API_PutObjectTagging.html, API_GetObjectTagging.html, API_DeleteObjectTagging.html
    ok(s3.put_object_tagging, Bucket=bucket, Key='a.txt', Tagging={'TagSet': [{'Key': 'k', 'Value': 'v'}]})
    ok(s3.get_object_tagging, {'TagSet': [{'Key': 'k', 'Value': 'v'}]}, Bucket=bucket, Key='a.txt')
    ok(s3.delete_object_tagging, status=204, Bucket=bucket, Key='a.txt')
    ok(s3.get_object_tagging, {'TagSet': []}, Bucket=bucket, Key='a.txt')
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html
    ok(s3.get_object_acl, {'Owner.ID': S, 'Grants.0.Permission': 'FULL_CONTROL', 'Grants.0.Grantee.Type': 'CanonicalUser'}, Bucket=bucket, Key='a.txt')
    # Object Lock is not configured on the bucket: InvalidRequest (API_GetObjectRetention.html and siblings).
    fails('InvalidRequest', 400, s3.get_object_retention, Bucket=bucket, Key='a.txt')
    fails('InvalidRequest', 400, s3.put_object_retention, Bucket=bucket, Key='a.txt', Retention={'Mode': 'GOVERNANCE', 'RetainUntilDate': '2030-01-01T00:00:00Z'})
    fails('InvalidRequest', 400, s3.get_object_legal_hold, Bucket=bucket, Key='a.txt')
    fails('InvalidRequest', 400, s3.put_object_legal_hold, Bucket=bucket, Key='a.txt', LegalHold={'Status': 'ON'})

    # Multipart uploads: API_CreateMultipartUpload.html … API_AbortMultipartUpload.html
    upload = ok(s3.create_multipart_upload, {'Bucket': bucket, 'Key': 'big', 'UploadId': S}, Bucket=bucket, Key='big')['UploadId']
    part1 = b'x' * (5 * 1024 * 1024)
    p1 = ok(s3.upload_part, {'ETag': f'"{hashlib.md5(part1).hexdigest()}"'}, Bucket=bucket, Key='big', UploadId=upload, PartNumber=1, Body=part1)
    p2 = ok(
        s3.upload_part_copy,
        {'CopyPartResult.ETag': f'"{md5}"', 'CopyPartResult.LastModified': T},
        Bucket=bucket,
        Key='big',
        UploadId=upload,
        PartNumber=2,
        CopySource={'Bucket': bucket, 'Key': 'a.txt'},
    )
    ok(
        s3.list_parts,
        {'Bucket': bucket, 'Key': 'big', 'UploadId': upload, 'Parts.0.PartNumber': 1, 'Parts.0.Size': len(part1), 'Parts.0.ETag': etag, 'Parts.0.LastModified': T, 'Parts.1.PartNumber': 2, 'IsTruncated': False},
        Bucket=bucket,
        Key='big',
        UploadId=upload,
    )
    ok(s3.list_multipart_uploads, {'Bucket': bucket, 'Uploads.0.Key': 'big', 'Uploads.0.UploadId': upload, 'Uploads.0.Initiated': T, 'IsTruncated': False}, Bucket=bucket)
    fails('NoSuchUpload', 404, s3.list_parts, Bucket=bucket, Key='big', UploadId='none')
    completed = ok(
        s3.complete_multipart_upload,
        {'Bucket': bucket, 'Key': 'big', 'ETag': re.compile(r'"[0-9a-f]{32}-2"'), 'Location': S},
        Bucket=bucket,
        Key='big',
        UploadId=upload,
        MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': p1['ETag']}, {'PartNumber': 2, 'ETag': p2['CopyPartResult']['ETag']}]},
    )
    total = len(part1) + len(body)
    ok(s3.head_object, {'ContentLength': total, 'ETag': re.compile(r'"[0-9a-f]{32}-2"')}, Bucket=bucket, Key='big')
    # PartsCount: "only returned if you specify partNumber in your request and the object was uploaded as a multipart upload" (API_HeadObject.html, API_GetObject.html).
    ok(s3.head_object, {}, absent=['PartsCount', 'ContentRange'], Bucket=bucket, Key='big')
    # PartNumber "effectively performs a 'ranged' GET request for the part specified" (API_GetObject.html, API_HeadObject.html):
    # 206 with the part's bytes and their Content-Range; a number beyond the parts is InvalidPartNumber (416, ErrorResponses.html).
    ok(s3.head_object, {'ContentLength': len(part1), 'ContentRange': f'bytes 0-{len(part1) - 1}/{total}', 'PartsCount': 2}, status=206, Bucket=bucket, Key='big', PartNumber=1)
    part = ok(s3.get_object, {'ContentLength': len(body), 'ContentRange': f'bytes {len(part1)}-{total - 1}/{total}', 'PartsCount': 2}, status=206, Bucket=bucket, Key='big', PartNumber=2)
    if part and part['Body'].read() != body:
        R.fail('s3.get_object', 'part 2 is not the bytes of the part copied into it')
    fails('InvalidPartNumber', 416, s3.get_object, Bucket=bucket, Key='big', PartNumber=3)
    fails('416', 416, s3.head_object, Bucket=bucket, Key='big', PartNumber=3)
    fails('InvalidRequest', 400, s3.get_object, Bucket=bucket, Key='big', PartNumber=1, Range='bytes=0-1')
    # An object not uploaded in parts is one part, without PartsCount.
    ok(s3.get_object, {'ContentLength': len(body), 'ContentRange': f'bytes 0-{len(body) - 1}/{len(body)}'}, absent=['PartsCount'], status=206, Bucket=bucket, Key='a.txt', PartNumber=1)
    fails('InvalidPartNumber', 416, s3.get_object, Bucket=bucket, Key='a.txt', PartNumber=2)
    # Location: "the URI that identifies the newly created object" (API_CompleteMultipartUpload.html), on the endpoint called, path-style here.
    check('s3.complete_multipart_upload', completed or {}, {'Location': f"{s3.meta.endpoint_url.rstrip('/')}/{bucket}/big"})
    abandoned = ok(s3.create_multipart_upload, {'UploadId': S}, Bucket=bucket, Key='gone')['UploadId']
    ok(s3.abort_multipart_upload, status=204, Bucket=bucket, Key='gone', UploadId=abandoned)
    fails('NoSuchUpload', 404, s3.abort_multipart_upload, Bucket=bucket, Key='gone', UploadId=abandoned)
    ok(s3.list_multipart_uploads, {'IsTruncated': False}, absent=['Uploads'], Bucket=bucket)

    # Versioning: API_GetBucketVersioning.html, API_PutBucketVersioning.html, API_ListObjectVersions.html
    ok(s3.get_bucket_versioning, {}, absent=['Status'], Bucket=bucket)
    ok(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={'Status': 'Enabled'})
    ok(s3.get_bucket_versioning, {'Status': 'Enabled'}, Bucket=bucket)
    v1 = ok(s3.put_object, {'VersionId': S}, Bucket=bucket, Key='v.txt', Body=b'1')['VersionId']
    ok(s3.put_object, {'VersionId': lambda v: v != v1}, Bucket=bucket, Key='v.txt', Body=b'2')
    marker = ok(s3.delete_object, {'DeleteMarker': True, 'VersionId': S}, status=204, Bucket=bucket, Key='v.txt')
    versions = ok(
        s3.list_object_versions,
        {
            'Name': bucket,
            'Versions': lambda vs: len(vs) == 2 and all(v['Key'] == 'v.txt' and not v['IsLatest'] for v in vs),
            'Versions.0.VersionId': S,
            'Versions.0.ETag': etag,
            'Versions.0.Size': 1,
            'Versions.0.LastModified': T,
            'DeleteMarkers.0.Key': 'v.txt',
            'DeleteMarkers.0.IsLatest': True,
            'DeleteMarkers.0.VersionId': marker['VersionId'] if marker else S,
            'IsTruncated': False,
        },
        Bucket=bucket,
        Prefix='v.txt',
    )
    ok(s3.get_object, {'VersionId': v1}, Bucket=bucket, Key='v.txt', VersionId=v1)
    # A copy of a version names it (CopySourceVersionId) and makes a version of its own.
    ok(s3.copy_object, {'CopySourceVersionId': v1, 'VersionId': S, 'CopyObjectResult.ETag': etag}, Bucket=bucket, Key='v-copy.txt', CopySource={'Bucket': bucket, 'Key': 'v.txt', 'VersionId': v1})
    ok(s3.head_object, {'ContentLength': 1, 'VersionId': S}, Bucket=bucket, Key='v-copy.txt')
    fails('NoSuchKey', 404, s3.get_object, Bucket=bucket, Key='v.txt')

    # Bucket policy: API_PutBucketPolicy.html, API_GetBucketPolicy.html, API_GetBucketPolicyStatus.html, API_DeleteBucketPolicy.html
    fails('NoSuchBucketPolicy', 404, s3.get_bucket_policy, Bucket=bucket)
    bucket_policy = json.dumps(
        {
            'Version': '2012-10-17',
            'Statement': [
                {'Effect': 'Allow', 'Principal': {'AWS': f'arn:aws:iam::{CI}:root'}, 'Action': 's3:GetObject', 'Resource': f'arn:aws:s3:::{bucket}/*'}
            ],
        }
    )
    ok(s3.put_bucket_policy, status=204, Bucket=bucket, Policy=bucket_policy)
    fails('MalformedPolicy', 400, s3.put_bucket_policy, Bucket=bucket, Policy='{')
    ok(s3.get_bucket_policy, {'Policy': lambda t: json.loads(t) == json.loads(bucket_policy)}, Bucket=bucket)
    ok(s3.get_bucket_policy_status, {'PolicyStatus.IsPublic': False}, Bucket=bucket)
    ok(s3.delete_bucket_policy, status=204, Bucket=bucket)
    fails('NoSuchBucketPolicy', 404, s3.get_bucket_policy_status, Bucket=bucket)
    # Default encryption: SSE-S3 unless set (API_GetBucketEncryption.html, default-bucket-encryption.html).
    sse = 'ServerSideEncryptionConfiguration.Rules.0.ApplyServerSideEncryptionByDefault.SSEAlgorithm'
    ok(s3.get_bucket_encryption, {sse: 'AES256'}, Bucket=bucket)
    key_arn = R.client('kms').create_key(Description='s3')['KeyMetadata']['Arn']
    ok(
        s3.put_bucket_encryption,
        Bucket=bucket,
        ServerSideEncryptionConfiguration={'Rules': [{'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'aws:kms', 'KMSMasterKeyID': key_arn}, 'BucketKeyEnabled': True}]},
    )
    ok(
        s3.get_bucket_encryption,
        {sse: 'aws:kms', 'ServerSideEncryptionConfiguration.Rules.0.ApplyServerSideEncryptionByDefault.KMSMasterKeyID': key_arn, 'ServerSideEncryptionConfiguration.Rules.0.BucketKeyEnabled': True},
        Bucket=bucket,
    )
    ok(s3.put_object, {'ServerSideEncryption': 'aws:kms', 'SSEKMSKeyId': key_arn}, Bucket=bucket, Key='secret.txt', Body=b's')
    ok(s3.delete_bucket_encryption, status=204, Bucket=bucket)
    ok(s3.get_bucket_encryption, {sse: 'AES256'}, Bucket=bucket)
    # Block Public Access: on for new buckets (API_GetPublicAccessBlock.html, access-control-block-public-access.html).
    blocked = {'BlockPublicAcls': True, 'IgnorePublicAcls': True, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': True}
    ok(s3.get_public_access_block, {'PublicAccessBlockConfiguration': blocked}, Bucket=bucket)
    partly = {**blocked, 'BlockPublicPolicy': False}
    ok(s3.put_public_access_block, Bucket=bucket, PublicAccessBlockConfiguration=partly)
    ok(s3.get_public_access_block, {'PublicAccessBlockConfiguration': partly}, Bucket=bucket)
    ok(s3.delete_public_access_block, status=204, Bucket=bucket)
    fails('NoSuchPublicAccessBlockConfiguration', 404, s3.get_public_access_block, Bucket=bucket)
    # Object Ownership: BucketOwnerEnforced for new buckets (API_GetBucketOwnershipControls.html).
    ok(s3.get_bucket_ownership_controls, {'OwnershipControls.Rules': [{'ObjectOwnership': 'BucketOwnerEnforced'}]}, Bucket=bucket)
    # ACLs are off while the owner is enforced: AccessControlListNotSupported (about-object-ownership.html).
    fails('AccessControlListNotSupported', 400, s3.put_bucket_acl, Bucket=bucket, ACL='public-read')
    ok(s3.put_bucket_ownership_controls, Bucket=bucket, OwnershipControls={'Rules': [{'ObjectOwnership': 'BucketOwnerPreferred'}]})
    ok(s3.get_bucket_ownership_controls, {'OwnershipControls.Rules': [{'ObjectOwnership': 'BucketOwnerPreferred'}]}, Bucket=bucket)
    # ACLs: API_PutBucketAcl.html, API_GetBucketAcl.html
    ok(s3.put_bucket_acl, Bucket=bucket, ACL='private')
    ok(s3.get_bucket_acl, {'Owner.ID': S, 'Grants': [{'Grantee': {'Type': 'CanonicalUser', 'ID': S, **({})}, 'Permission': 'FULL_CONTROL'}]}, Bucket=bucket)
    ok(s3.delete_bucket_ownership_controls, status=204, Bucket=bucket)
    fails('OwnershipControlsNotFoundError', 404, s3.get_bucket_ownership_controls, Bucket=bucket)
    # Lifecycle: API_PutBucketLifecycleConfiguration.html, API_GetBucketLifecycleConfiguration.html, API_DeleteBucketLifecycle.html
    fails('NoSuchLifecycleConfiguration', 404, s3.get_bucket_lifecycle_configuration, Bucket=bucket)
    rule = {'ID': 'old', 'Status': 'Enabled', 'Filter': {'Prefix': 'logs/'}, 'Expiration': {'Days': 30}}
    ok(s3.put_bucket_lifecycle_configuration, Bucket=bucket, LifecycleConfiguration={'Rules': [rule]})
    ok(s3.get_bucket_lifecycle_configuration, {'Rules.0.ID': 'old', 'Rules.0.Status': 'Enabled', 'Rules.0.Expiration.Days': 30, 'Rules.0.Filter.Prefix': 'logs/'}, Bucket=bucket)
    ok(s3.delete_bucket_lifecycle, status=204, Bucket=bucket)
    fails('NoSuchLifecycleConfiguration', 404, s3.get_bucket_lifecycle_configuration, Bucket=bucket)
    # Bucket tags: API_PutBucketTagging.html, API_GetBucketTagging.html, API_DeleteBucketTagging.html
    fails('NoSuchTagSet', 404, s3.get_bucket_tagging, Bucket=bucket)
    ok(s3.put_bucket_tagging, status=204, Bucket=bucket, Tagging={'TagSet': [{'Key': 'team', 'Value': 'b3'}]})
    ok(s3.get_bucket_tagging, {'TagSet': [{'Key': 'team', 'Value': 'b3'}]}, Bucket=bucket)
    ok(s3.delete_bucket_tagging, status=204, Bucket=bucket)
    fails('NoSuchTagSet', 404, s3.get_bucket_tagging, Bucket=bucket)
    # Settings the sandbox never sets: each reads as AWS answers a bucket without it.
    fails('NoSuchCORSConfiguration', 404, s3.get_bucket_cors, Bucket=bucket)
    ok(s3.delete_bucket_cors, status=204, Bucket=bucket)
    fails('NoSuchWebsiteConfiguration', 404, s3.get_bucket_website, Bucket=bucket)
    ok(s3.delete_bucket_website, status=204, Bucket=bucket)
    fails('ReplicationConfigurationNotFoundError', 404, s3.get_bucket_replication, Bucket=bucket)
    ok(s3.delete_bucket_replication, status=204, Bucket=bucket)
    fails('ObjectLockConfigurationNotFoundError', 404, s3.get_object_lock_configuration, Bucket=bucket)
    ok(s3.get_bucket_logging, {}, absent=['LoggingEnabled'], Bucket=bucket)
    ok(s3.get_bucket_accelerate_configuration, {}, absent=['Status'], Bucket=bucket)
    ok(s3.get_bucket_request_payment, {'Payer': 'BucketOwner'}, Bucket=bucket)
    ok(
        s3.get_bucket_notification_configuration,
        {},
        absent=['TopicConfigurations', 'QueueConfigurations', 'LambdaFunctionConfigurations', 'EventBridgeConfiguration'],
        Bucket=bucket,
    )

    # Deleting: API_DeleteObject.html, API_DeleteObjects.html, API_DeleteBucket.html
    fails('BucketNotEmpty', 409, s3.delete_bucket, Bucket=bucket)
    # A key that is not there: 204 all the same, and (versioning on) a delete marker.
    ok(s3.delete_object, {'DeleteMarker': True}, status=204, Bucket=bucket, Key='already-gone')
    listed = ok(s3.list_object_versions, {'IsTruncated': False}, Bucket=bucket) or {}
    doomed = [{'Key': v['Key'], 'VersionId': v['VersionId']} for v in listed.get('Versions', []) + listed.get('DeleteMarkers', [])]
    ok(s3.delete_objects, {'Deleted': lambda d: len(d) == len(doomed) and all('Key' in x for x in d)}, absent=['Errors'], Bucket=bucket, Delete={'Objects': doomed})
    ok(s3.delete_bucket, status=204, Bucket=bucket)
    fails('NoSuchBucket', 404, s3.delete_bucket, Bucket=bucket)



# ---- CloudFormation: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Operations.html


def cfn_template(description):
    return json.dumps(
        {
            'AWSTemplateFormatVersion': '2010-09-09',
            'Description': description,
            'Parameters': {'Value': {'Type': 'String', 'Default': 'one', 'Description': 'the value'}},
            'Resources': {
                'Param': {'Type': 'AWS::SSM::Parameter', 'Properties': {'Name': '/b3/cfn', 'Type': 'String', 'Value': {'Ref': 'Value'}}},
                'Handle': {'Type': 'AWS::CloudFormation::WaitConditionHandle'},
            },
            'Outputs': {'ParamName': {'Value': {'Ref': 'Param'}, 'Export': {'Name': 'b3-param'}}},
        }
    )


def stack_settled(cfn, name):
    """The stack once it is no longer in progress (DescribeStacks polled, as boto3's waiters do)."""

    def settled():
        s = cfn.describe_stacks(StackName=name)['Stacks'][0]
        return None if s['StackStatus'].endswith('_IN_PROGRESS') else s

    return until(f'stack {name} to settle', settled)


def cloudformation_scenario():
    cfn = R.client('cloudformation')
    name = 'b3-stack'
    body = cfn_template('boto3')
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ValidateTemplate.html
    ok(
        cfn.validate_template,
        {'Description': 'boto3', 'Parameters': [{'ParameterKey': 'Value', 'DefaultValue': 'one', 'NoEcho': False, 'Description': 'the value'}]},
        TemplateBody=body,
    )
    fails('ValidationError', 400, cfn.validate_template, TemplateBody='{"Resources": 1}')
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplateSummary.html
    ok(
        cfn.get_template_summary,
        {'Description': 'boto3', 'Parameters.0.ParameterKey': 'Value', 'ResourceTypes': lambda ts: sorted(ts) == ['AWS::CloudFormation::WaitConditionHandle', 'AWS::SSM::Parameter'], 'Version': '2010-09-09'},
        TemplateBody=body,
    )
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
    stack_id = ok(
        cfn.create_stack,
        {'StackId': re.compile(rf'arn:aws:cloudformation:{REGION}:{DEV}:stack/{name}/[0-9a-f-]{{36}}')},
        StackName=name,
        TemplateBody=body,
        Tags=[{'Key': 'team', 'Value': 'b3'}],
    )['StackId']
    fails('AlreadyExistsException', 400, cfn.create_stack, StackName=name, TemplateBody=body)
    # A resource type CloudFormation does not know is a template error, before any stack exists.
    unknown = json.dumps({'Resources': {'X': {'Type': 'AWS::Nope::Thing'}}})
    fails('ValidationError', 400, cfn.create_stack, message='Unrecognized resource types', StackName='b3-unknown', TemplateBody=unknown)
    stack_settled(cfn, name)
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
    ok(
        cfn.describe_stacks,
        {
            'Stacks.0.StackId': stack_id,
            'Stacks.0.StackName': name,
            'Stacks.0.StackStatus': 'CREATE_COMPLETE',
            'Stacks.0.CreationTime': T,
            'Stacks.0.Description': 'boto3',
            'Stacks.0.Parameters': [{'ParameterKey': 'Value', 'ParameterValue': 'one'}],
            'Stacks.0.Outputs': [{'OutputKey': 'ParamName', 'OutputValue': '/b3/cfn', 'ExportName': 'b3-param'}],
            'Stacks.0.Tags': [{'Key': 'team', 'Value': 'b3'}],
            'Stacks.0.EnableTerminationProtection': False,
            'Stacks.0.DisableRollback': False,
        },
        StackName=name,
    )
    fails('ValidationError', 400, cfn.describe_stacks, message='does not exist', StackName='b3-none')
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListStacks.html
    ok(
        cfn.list_stacks,
        {'StackSummaries': lambda ss: [x['StackName'] for x in ss] == [name], 'StackSummaries.0.StackId': stack_id, 'StackSummaries.0.StackStatus': 'CREATE_COMPLETE', 'StackSummaries.0.CreationTime': T, 'StackSummaries.0.TemplateDescription': 'boto3'},
        StackStatusFilter=['CREATE_COMPLETE'],
    )
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackEvents.html
    ok(
        cfn.describe_stack_events,
        {
            'StackEvents.0.StackId': stack_id,
            'StackEvents.0.EventId': S,
            'StackEvents.0.StackName': name,
            'StackEvents.0.LogicalResourceId': name,
            'StackEvents.0.ResourceType': 'AWS::CloudFormation::Stack',
            'StackEvents.0.ResourceStatus': 'CREATE_COMPLETE',
            'StackEvents.0.Timestamp': T,
            'StackEvents': lambda es: any(e['LogicalResourceId'] == 'Param' and e['ResourceStatus'] == 'CREATE_COMPLETE' for e in es),
        },
        StackName=name,
    )
    # Resources: API_DescribeStackResource.html, API_DescribeStackResources.html, API_ListStackResources.html
    ok(
        cfn.describe_stack_resource,
        {
            'StackResourceDetail.LogicalResourceId': 'Param',
            'StackResourceDetail.PhysicalResourceId': '/b3/cfn',
            'StackResourceDetail.ResourceType': 'AWS::SSM::Parameter',
            'StackResourceDetail.ResourceStatus': 'CREATE_COMPLETE',
            'StackResourceDetail.LastUpdatedTimestamp': T,
            'StackResourceDetail.StackId': stack_id,
        },
        StackName=name,
        LogicalResourceId='Param',
    )
    fails('ValidationError', 400, cfn.describe_stack_resource, StackName=name, LogicalResourceId='None')
    ok(
        cfn.describe_stack_resources,
        {'StackResources': lambda rs: sorted(r['LogicalResourceId'] for r in rs) == ['Handle', 'Param'], 'StackResources.0.Timestamp': T, 'StackResources.0.StackName': name},
        StackName=name,
    )
    ok(
        cfn.list_stack_resources,
        {'StackResourceSummaries': lambda rs: sorted(r['LogicalResourceId'] for r in rs) == ['Handle', 'Param'], 'StackResourceSummaries.0.LastUpdatedTimestamp': T, 'StackResourceSummaries.0.ResourceStatus': 'CREATE_COMPLETE'},
        StackName=name,
    )
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplate.html (boto3 decodes a JSON body)
    ok(cfn.get_template, {'TemplateBody': json.loads(body), 'StagesAvailable': ['Original', 'Processed']}, StackName=name)
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListExports.html
    ok(cfn.list_exports, {'Exports': [{'ExportingStackId': stack_id, 'Name': 'b3-param', 'Value': '/b3/cfn'}]})
    # Stack policy: API_SetStackPolicy.html, API_GetStackPolicy.html
    ok(cfn.get_stack_policy, {}, absent=['StackPolicyBody'], StackName=name)
    stack_policy = json.dumps({'Statement': [{'Effect': 'Allow', 'Action': 'Update:*', 'Principal': '*', 'Resource': '*'}]})
    ok(cfn.set_stack_policy, StackName=name, StackPolicyBody=stack_policy)
    ok(cfn.get_stack_policy, {'StackPolicyBody': lambda t: json.loads(t) == json.loads(stack_policy)}, StackName=name)
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html
    ok(cfn.update_stack, {'StackId': stack_id}, StackName=name, UsePreviousTemplate=True, Parameters=[{'ParameterKey': 'Value', 'ParameterValue': 'two'}])
    stack_settled(cfn, name)
    ok(cfn.describe_stacks, {'Stacks.0.StackStatus': 'UPDATE_COMPLETE', 'Stacks.0.LastUpdatedTime': T, 'Stacks.0.Parameters': [{'ParameterKey': 'Value', 'ParameterValue': 'two'}]}, StackName=name)
    # Events newest first: the stack's UPDATE_COMPLETE leads.
    ok(cfn.describe_stack_events, {'StackEvents.0.LogicalResourceId': name, 'StackEvents.0.ResourceStatus': 'UPDATE_COMPLETE'}, StackName=name)
    ok(cfn.describe_stack_resource, {'StackResourceDetail.ResourceStatus': 'UPDATE_COMPLETE'}, StackName=name, LogicalResourceId='Param')
    ok(R.client('ssm').get_parameter, {'Parameter.Value': 'two'}, Name='/b3/cfn')
    fails('ValidationError', 400, cfn.update_stack, message='No updates are to be performed', StackName=name, UsePreviousTemplate=True, Parameters=[{'ParameterKey': 'Value', 'UsePreviousValue': True}])
    # Only an update in progress can be cancelled, only a failed rollback continued (API_CancelUpdateStack.html,
    # API_ContinueUpdateRollback.html): the stack here is UPDATE_COMPLETE.
    fails('ValidationError', 400, cfn.cancel_update_stack, StackName=name)
    fails('ValidationError', 400, cfn.continue_update_rollback, StackName=name)
    # Change sets: API_CreateChangeSet.html, API_DescribeChangeSet.html, API_ListChangeSets.html,
    # API_ExecuteChangeSet.html, API_DeleteChangeSet.html
    cs = ok(
        cfn.create_change_set,
        {'Id': re.compile(rf'arn:aws:cloudformation:{REGION}:{DEV}:changeSet/b3-cs/[0-9a-f-]{{36}}'), 'StackId': stack_id},
        StackName=name,
        ChangeSetName='b3-cs',
        UsePreviousTemplate=True,
        Parameters=[{'ParameterKey': 'Value', 'ParameterValue': 'three'}],
    )

    def created():
        d = cfn.describe_change_set(StackName=name, ChangeSetName='b3-cs')
        return None if d['Status'] in ('CREATE_PENDING', 'CREATE_IN_PROGRESS') else d

    until('change set b3-cs', created)
    ok(
        cfn.describe_change_set,
        {
            'ChangeSetName': 'b3-cs',
            'ChangeSetId': cs['Id'],
            'StackId': stack_id,
            'StackName': name,
            'Status': 'CREATE_COMPLETE',
            'ExecutionStatus': 'AVAILABLE',
            'CreationTime': T,
            'Parameters': [{'ParameterKey': 'Value', 'ParameterValue': 'three'}],
            'Changes.0.Type': 'Resource',
            'Changes.0.ResourceChange.Action': 'Modify',
            'Changes.0.ResourceChange.LogicalResourceId': 'Param',
            'Changes.0.ResourceChange.ResourceType': 'AWS::SSM::Parameter',
        },
        ChangeSetName=cs['Id'],
    )
    fails('ChangeSetNotFound', 404, cfn.describe_change_set, StackName=name, ChangeSetName='b3-none')
    ok(
        cfn.list_change_sets,
        {'Summaries.0.ChangeSetName': 'b3-cs', 'Summaries.0.ChangeSetId': cs['Id'], 'Summaries.0.Status': 'CREATE_COMPLETE', 'Summaries.0.ExecutionStatus': 'AVAILABLE', 'Summaries.0.CreationTime': T},
        StackName=name,
    )
    ok(cfn.execute_change_set, StackName=name, ChangeSetName='b3-cs')
    stack_settled(cfn, name)
    ok(cfn.describe_stacks, {'Stacks.0.StackStatus': 'UPDATE_COMPLETE', 'Stacks.0.Parameters.0.ParameterValue': 'three'}, StackName=name)
    ok(cfn.create_change_set, {'Id': S}, StackName=name, ChangeSetName='b3-unused', UsePreviousTemplate=True, Parameters=[{'ParameterKey': 'Value', 'ParameterValue': 'four'}])
    until('change set b3-unused', lambda: None if cfn.describe_change_set(StackName=name, ChangeSetName='b3-unused')['Status'].endswith(('PENDING', 'IN_PROGRESS')) else True)
    ok(cfn.delete_change_set, StackName=name, ChangeSetName='b3-unused')
    # The executed change set stays, EXECUTE_COMPLETE; the deleted one is gone.
    ok(cfn.list_change_sets, {'Summaries': lambda cs: [(c['ChangeSetName'], c['ExecutionStatus']) for c in cs] == [('b3-cs', 'EXECUTE_COMPLETE')]}, StackName=name)
    # DeleteChangeSet documents no ChangeSetNotFound: a name the stack has no change set of is deleted already.
    ok(cfn.delete_change_set, StackName=name, ChangeSetName='b3-unused')
    # Termination protection: API_UpdateTerminationProtection.html; a protected stack is not deleted.
    ok(cfn.update_termination_protection, {'StackId': stack_id}, StackName=name, EnableTerminationProtection=True)
    fails('ValidationError', 400, cfn.delete_stack, message='TerminationProtection', StackName=name)
    ok(cfn.update_termination_protection, {'StackId': stack_id}, StackName=name, EnableTerminationProtection=False)
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html
    ok(cfn.delete_stack, StackName=name)
    stack_settled(cfn, stack_id)
    ok(cfn.describe_stacks, {'Stacks.0.StackStatus': 'DELETE_COMPLETE', 'Stacks.0.DeletionTime': T}, StackName=stack_id)
    fails('ValidationError', 400, cfn.describe_stacks, StackName=name)
    # ListStacks keeps deleted stacks (API_ListStacks.html: "deleted stacks for 90 days").
    ok(
        cfn.list_stacks,
        {'StackSummaries': lambda ss: [(x['StackId'], x['StackStatus'], type(x.get('DeletionTime'))) for x in ss if x['StackName'] == name] == [(stack_id, 'DELETE_COMPLETE', T)]},
    )
    fails('ParameterNotFound', 400, R.client('ssm').get_parameter, Name='/b3/cfn')



# ---- CodeBuild: https://docs.aws.amazon.com/codebuild/latest/APIReference/API_Operations.html -------

# What the CodeBuild scenario leaves for the CloudWatch Logs one: a finished build and its project.
SHARED = {}

BUILDSPEC = 'version: 0.2\nphases:\n  build:\n    commands:\n      - echo hello from boto3\n'


def build_role(iam, name, service, actions):
    """A service role the named service may assume, with an inline policy for `actions`."""
    ok(iam.create_role, RoleName=name, AssumeRolePolicyDocument=trust({'Service': f'{service}.amazonaws.com'}))
    ok(iam.put_role_policy, RoleName=name, PolicyName='work', PolicyDocument=policy(actions))
    return f'arn:aws:iam::{DEV}:role/{name}'


def codebuild_scenario():
    cb = R.client('codebuild')
    role = build_role(R.client('iam'), 'b3-build-role', 'codebuild', ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'])
    name = 'b3-project'
    arn = f'arn:aws:codebuild:{REGION}:{DEV}:project/{name}'
    environment = {'type': 'LINUX_CONTAINER', 'image': 'aws/codebuild/standard:7.0', 'computeType': 'BUILD_GENERAL1_SMALL'}
    project = {
        'project.name': name,
        'project.arn': arn,
        'project.source': {'type': 'NO_SOURCE', 'buildspec': BUILDSPEC, **{}},
        'project.artifacts.type': 'NO_ARTIFACTS',
        'project.environment.type': 'LINUX_CONTAINER',
        'project.environment.image': 'aws/codebuild/standard:7.0',
        'project.environment.computeType': 'BUILD_GENERAL1_SMALL',
        'project.serviceRole': role,
        'project.timeoutInMinutes': 60,
        'project.created': T,
        'project.lastModified': T,
    }
    # https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateProject.html
    ok(
        cb.create_project,
        {k: v for k, v in project.items() if k != 'project.source'},
        name=name,
        description='boto3',
        source={'type': 'NO_SOURCE', 'buildspec': BUILDSPEC},
        artifacts={'type': 'NO_ARTIFACTS'},
        environment=environment,
        serviceRole=role,
        tags=[{'key': 'team', 'value': 'b3'}],
    )
    fails('ResourceAlreadyExistsException', 400, cb.create_project, name=name, source={'type': 'NO_SOURCE', 'buildspec': BUILDSPEC}, artifacts={'type': 'NO_ARTIFACTS'}, environment=environment, serviceRole=role)
    fails('InvalidInputException', 400, cb.create_project, name='b3 bad', source={'type': 'NO_SOURCE', 'buildspec': BUILDSPEC}, artifacts={'type': 'NO_ARTIFACTS'}, environment=environment, serviceRole=role)
    # https://docs.aws.amazon.com/codebuild/latest/APIReference/API_BatchGetProjects.html
    ok(
        cb.batch_get_projects,
        {'projects.0.name': name, 'projects.0.arn': arn, 'projects.0.description': 'boto3', 'projects.0.tags': [{'key': 'team', 'value': 'b3'}], 'projectsNotFound': ['b3-none']},
        names=[name, 'b3-none'],
    )
    # https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ListProjects.html
    ok(cb.list_projects, {'projects': [name]})
    # https://docs.aws.amazon.com/codebuild/latest/APIReference/API_UpdateProject.html
    ok(cb.update_project, {'project.name': name, 'project.description': 'changed', 'project.timeoutInMinutes': 10, 'project.lastModified': T}, name=name, description='changed', timeoutInMinutes=10)
    fails('ResourceNotFoundException', 400, cb.update_project, name='b3-none', description='x')
    # https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html
    build = ok(
        cb.start_build,
        {
            'build.id': re.compile(rf'{name}:[0-9a-f-]{{36}}'),
            'build.arn': re.compile(rf'arn:aws:codebuild:{REGION}:{DEV}:build/{name}:[0-9a-f-]{{36}}'),
            'build.buildNumber': 1,
            'build.startTime': T,
            'build.buildStatus': 'IN_PROGRESS',
            'build.buildComplete': False,
            'build.projectName': name,
            'build.currentPhase': S,
            'build.initiator': S,
        },
        projectName=name,
    )['build']
    fails('ResourceNotFoundException', 400, cb.start_build, projectName='b3-none')

    # https://docs.aws.amazon.com/codebuild/latest/APIReference/API_BatchGetBuilds.html
    def finished():
        b = cb.batch_get_builds(ids=[build['id']])['builds'][0]
        return b if b['buildComplete'] else None

    until(f"build {build['id']}", finished, timeout=120)
    ok(
        cb.batch_get_builds,
        {
            'builds.0.id': build['id'],
            'builds.0.buildStatus': 'SUCCEEDED',
            'builds.0.buildComplete': True,
            'builds.0.currentPhase': 'COMPLETED',
            'builds.0.startTime': T,
            'builds.0.endTime': T,
            'builds.0.phases': lambda ps: any(p['phaseType'] == 'BUILD' and p['phaseStatus'] == 'SUCCEEDED' for p in ps),
            'builds.0.phases.0.phaseType': 'SUBMITTED',
            'builds.0.phases.0.startTime': T,
            'builds.0.phases.0.durationInSeconds': I,
            'builds.0.environment.image': 'aws/codebuild/standard:7.0',
            'builds.0.serviceRole': role,
            'builds.0.timeoutInMinutes': 10,
            'builds.0.logs.cloudWatchLogsArn': f'arn:aws:logs:{REGION}:{DEV}:log-group:/aws/codebuild/{name}:log-stream:' + build['id'].split(':')[1],
            'builds.0.logs.groupName': f'/aws/codebuild/{name}',
            'builds.0.logs.streamName': build['id'].split(':')[1],
            'buildsNotFound': [f'{name}:00000000-0000-0000-0000-000000000000'],
        },
        ids=[build['id'], f'{name}:00000000-0000-0000-0000-000000000000'],
    )
    # API_LogsLocation.html: deepLink, the build's log in the CloudWatch console, in the form of
    # https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications-ref.html (deep-link).
    ok(
        cb.batch_get_builds,
        {'builds.0.logs.deepLink': f"https://console.aws.amazon.com/cloudwatch/home?region={REGION}#logEvent:group=/aws/codebuild/{name};stream={build['id'].split(':')[1]}"},
        ids=[build['id']],
    )
    # https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StopBuild.html: a long build, stopped.
    slow = ok(cb.start_build, {'build.id': S}, projectName=name, buildspecOverride='version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 60\n')['build']
    ok(cb.stop_build, {'build.id': slow['id'], 'build.projectName': name, 'build.buildStatus': S}, id=slow['id'])

    def stopped():
        b = cb.batch_get_builds(ids=[slow['id']])['builds'][0]
        return b if b['buildComplete'] else None

    until(f"build {slow['id']} to stop", stopped, timeout=60)
    ok(cb.batch_get_builds, {'builds.0.buildStatus': 'STOPPED', 'builds.0.buildComplete': True}, ids=[slow['id']])
    fails('ResourceNotFoundException', 400, cb.stop_build, id=f'{name}:00000000-0000-0000-0000-000000000000')
    # API_ListBuildsForProject.html and API_ListBuilds.html: newest first.
    ok(cb.list_builds_for_project, {'ids': [slow['id'], build['id']]}, projectName=name)
    fails('ResourceNotFoundException', 400, cb.list_builds_for_project, projectName='b3-none')
    ok(cb.list_builds, {'ids': [slow['id'], build['id']]})
    SHARED['build'] = build['id']
    SHARED['project'] = name
    # https://docs.aws.amazon.com/codebuild/latest/APIReference/API_DeleteProject.html
    ok(cb.delete_project, name=name)
    ok(cb.batch_get_projects, {'projects': [], 'projectsNotFound': [name]}, names=[name])


# ---- CloudWatch Logs: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_Operations.html
# The sandbox keeps CodeBuild's build logs: its log streams are builds' (needs the CodeBuild scenario first).


def logs_scenario():
    logs = R.client('logs')
    group = f"/aws/codebuild/{SHARED.get('project', 'b3-project')}"
    stream = SHARED.get('build', ':').split(':')[1]
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
    ok(logs.create_log_group, logGroupName='/b3/group')
    fails('ResourceAlreadyExistsException', 400, logs.create_log_group, logGroupName='/b3/group')
    fails('InvalidParameterException', 400, logs.create_log_group, logGroupName='bad name!')
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html
    ok(
        logs.describe_log_groups,
        {
            'logGroups.0.logGroupName': '/b3/group',
            'logGroups.0.creationTime': I,
            'logGroups.0.arn': f'arn:aws:logs:{REGION}:{DEV}:log-group:/b3/group:*',
            'logGroups.0.logGroupArn': f'arn:aws:logs:{REGION}:{DEV}:log-group:/b3/group',
            'logGroups.0.storedBytes': I,
        },
        logGroupNamePrefix='/b3/',
    )
    ok(logs.describe_log_groups, {'logGroups': lambda gs: [g['logGroupName'] for g in gs] == [group]}, logGroupNamePrefix=group)
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html
    ok(
        logs.describe_log_streams,
        {
            'logStreams.0.logStreamName': stream,
            'logStreams.0.creationTime': I,
            'logStreams.0.firstEventTimestamp': I,
            'logStreams.0.lastEventTimestamp': I,
            'logStreams.0.arn': f'arn:aws:logs:{REGION}:{DEV}:log-group:{group}:log-stream:{stream}',
        },
        logGroupName=group,
        logStreamNamePrefix=stream,
    )
    fails('ResourceNotFoundException', 400, logs.describe_log_streams, message='log group does not exist', logGroupName='/b3/none')
    # A created log group without streams: none listed.
    ok(logs.describe_log_streams, {'logStreams': []}, logGroupName='/b3/group')
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
    ok(
        logs.get_log_events,
        {
            'events': lambda es: any('hello from boto3' in e['message'] for e in es),
            'events.0.timestamp': I,
            'events.0.ingestionTime': I,
            'nextForwardToken': S,
            'nextBackwardToken': S,
        },
        logGroupName=group,
        logStreamName=stream,
        startFromHead=True,
    )
    fails('ResourceNotFoundException', 400, logs.get_log_events, message='log stream does not exist', logGroupName=group, logStreamName='none')
    # A created log group without streams: the stream is what does not exist; a group nobody created is.
    fails('ResourceNotFoundException', 400, logs.get_log_events, message='log stream does not exist', logGroupName='/b3/group', logStreamName='none')
    fails('ResourceNotFoundException', 400, logs.get_log_events, message='log group does not exist', logGroupName='/b3/none', logStreamName='none')
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
    ok(
        logs.filter_log_events,
        {
            'events': lambda es: len(es) >= 1 and all('hello' in e['message'] for e in es),
            'events.0.logStreamName': stream,
            'events.0.eventId': S,
            'events.0.timestamp': I,
        },
        logGroupName=group,
        filterPattern='hello',
    )
    ok(logs.filter_log_events, {'events': []}, logGroupName='/b3/group')
    fails('ResourceNotFoundException', 400, logs.filter_log_events, logGroupName='/b3/none')



# ---- CodePipeline: https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_Operations.html -


def source_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        z.writestr('app.txt', 'boto3')
    return buf.getvalue()


def codepipeline_scenario():
    cp = R.client('codepipeline')
    s3 = R.client('s3')
    name = 'b3-pipeline'
    ok(s3.create_bucket, Bucket='b3-source')
    ok(s3.put_bucket_versioning, Bucket='b3-source', VersioningConfiguration={'Status': 'Enabled'})
    ok(s3.put_object, Bucket='b3-source', Key='src.zip', Body=source_zip())
    ok(s3.create_bucket, Bucket='b3-artifacts')
    role = build_role(
        R.client('iam'),
        'b3-pipeline-role',
        'codepipeline',
        ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:GetBucketVersioning', 's3:ListBucket'],
    )
    gate = {'name': 'Gate', 'actions': [{'name': 'ok', 'actionTypeId': {'category': 'Approval', 'owner': 'AWS', 'provider': 'Manual', 'version': '1'}, 'runOrder': 1}]}
    declaration = {
        'name': name,
        'roleArn': role,
        'artifactStore': {'type': 'S3', 'location': 'b3-artifacts'},
        'stages': [
            {
                'name': 'Source',
                'actions': [
                    {
                        'name': 'src',
                        'actionTypeId': {'category': 'Source', 'owner': 'AWS', 'provider': 'S3', 'version': '1'},
                        'configuration': {'S3Bucket': 'b3-source', 'S3ObjectKey': 'src.zip', 'PollForSourceChanges': 'false'},
                        'outputArtifacts': [{'name': 'src'}],
                        'runOrder': 1,
                    }
                ],
            },
            gate,
        ],
    }
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_CreatePipeline.html (which starts an execution)
    ok(
        cp.create_pipeline,
        {'pipeline.name': name, 'pipeline.roleArn': role, 'pipeline.version': 1, 'pipeline.stages.1.name': 'Gate', 'pipeline.artifactStore': {'type': 'S3', 'location': 'b3-artifacts'}, 'tags': [{'key': 'team', 'value': 'b3'}]},
        pipeline=declaration,
        tags=[{'key': 'team', 'value': 'b3'}],
    )
    fails('PipelineNameInUseException', 400, cp.create_pipeline, pipeline=declaration)
    fails('InvalidStructureException', 400, cp.create_pipeline, pipeline={**declaration, 'name': 'b3-one-stage', 'stages': declaration['stages'][:1]})
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipeline.html
    ok(
        cp.get_pipeline,
        {'pipeline.name': name, 'pipeline.version': 1, 'metadata.pipelineArn': f'arn:aws:codepipeline:{REGION}:{DEV}:{name}', 'metadata.created': T, 'metadata.updated': T},
        name=name,
    )
    fails('PipelineNotFoundException', 400, cp.get_pipeline, name='b3-none')
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ListPipelines.html
    ok(cp.list_pipelines, {'pipelines': lambda ps: [p['name'] for p in ps] == [name], 'pipelines.0.version': 1, 'pipelines.0.created': T, 'pipelines.0.updated': T})

    def newest():
        s = cp.list_pipeline_executions(pipelineName=name)['pipelineExecutionSummaries']
        return s[0]['pipelineExecutionId'] if s else None

    def approval(except_token=None):
        """The token of the Gate approval once it waits (GetPipelineState's latestExecution)."""

        def waiting():
            st = cp.get_pipeline_state(name=name)['stageStates'][1]['actionStates'][0].get('latestExecution', {})
            t = st.get('token')
            return t if st.get('status') == 'InProgress' and t and t != except_token else None

        return until('the Gate approval', waiting)

    def execution(eid, statuses=('Succeeded', 'Failed', 'Stopped')):
        def done():
            e = cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=eid)['pipelineExecution']
            return e if e['status'] in statuses else None

        return until(f'execution {eid}', done)

    first = until('the first execution', newest)
    token = approval()
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineState.html
    ok(
        cp.get_pipeline_state,
        {
            'pipelineName': name,
            'pipelineVersion': 1,
            'created': T,
            'updated': T,
            'stageStates.0.stageName': 'Source',
            'stageStates.0.latestExecution': {'pipelineExecutionId': first, 'status': 'Succeeded'},
            'stageStates.0.actionStates.0.actionName': 'src',
            'stageStates.0.actionStates.0.latestExecution.status': 'Succeeded',
            'stageStates.1.stageName': 'Gate',
            'stageStates.1.inboundTransitionState.enabled': True,
            'stageStates.1.latestExecution.status': 'InProgress',
            'stageStates.1.actionStates.0.latestExecution.lastStatusChange': T,
            'stageStates.1.actionStates.0.latestExecution.token': token,
        },
        name=name,
    )
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutApprovalResult.html
    fails('InvalidApprovalTokenException', 400, cp.put_approval_result, pipelineName=name, stageName='Gate', actionName='ok', result={'summary': 'x', 'status': 'Approved'}, token='00000000-0000-0000-0000-000000000000')
    ok(cp.put_approval_result, {'approvedAt': T}, pipelineName=name, stageName='Gate', actionName='ok', result={'summary': 'fine', 'status': 'Approved'}, token=token)
    execution(first)
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineExecution.html
    ok(
        cp.get_pipeline_execution,
        {
            'pipelineExecution.pipelineName': name,
            'pipelineExecution.pipelineVersion': 1,
            'pipelineExecution.pipelineExecutionId': first,
            'pipelineExecution.status': 'Succeeded',
            'pipelineExecution.artifactRevisions.0.name': 'src',
            'pipelineExecution.artifactRevisions.0.revisionId': S,
            'pipelineExecution.trigger.triggerType': 'CreatePipeline',
        },
        pipelineName=name,
        pipelineExecutionId=first,
    )
    fails('PipelineExecutionNotFoundException', 400, cp.get_pipeline_execution, pipelineName=name, pipelineExecutionId='00000000-0000-0000-0000-000000000000')
    # A stage that succeeded is not retried (API_RetryStageExecution.html, StageNotRetryableException).
    fails('StageNotRetryableException', 400, cp.retry_stage_execution, pipelineName=name, stageName='Gate', pipelineExecutionId=first, retryMode='FAILED_ACTIONS')

    # A rejected approval fails its stage; RetryStageExecution runs the failed action again.
    second = ok(cp.start_pipeline_execution, {'pipelineExecutionId': re.compile(r'[0-9a-f-]{36}')}, name=name)['pipelineExecutionId']
    rejected = approval(token)
    ok(cp.put_approval_result, {'approvedAt': T}, pipelineName=name, stageName='Gate', actionName='ok', result={'summary': 'no', 'status': 'Rejected'}, token=rejected)
    execution(second)
    ok(cp.get_pipeline_execution, {'pipelineExecution.status': 'Failed'}, pipelineName=name, pipelineExecutionId=second)
    ok(cp.retry_stage_execution, {'pipelineExecutionId': second}, pipelineName=name, stageName='Gate', pipelineExecutionId=second, retryMode='FAILED_ACTIONS')
    again = approval(rejected)
    ok(cp.put_approval_result, {'approvedAt': T}, pipelineName=name, stageName='Gate', actionName='ok', result={'summary': 'yes', 'status': 'Approved'}, token=again)
    execution(second)
    ok(cp.get_pipeline_execution, {'pipelineExecution.status': 'Succeeded'}, pipelineName=name, pipelineExecutionId=second)

    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_StopPipelineExecution.html
    third = ok(cp.start_pipeline_execution, {'pipelineExecutionId': S}, name=name)['pipelineExecutionId']
    approval(again)
    ok(cp.stop_pipeline_execution, {'pipelineExecutionId': third}, pipelineName=name, pipelineExecutionId=third, abandon=True, reason='boto3')
    execution(third)
    ok(cp.get_pipeline_execution, {'pipelineExecution.status': 'Stopped'}, pipelineName=name, pipelineExecutionId=third)
    fails('PipelineExecutionNotStoppableException', 400, cp.stop_pipeline_execution, pipelineName=name, pipelineExecutionId=third, abandon=True)
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ListPipelineExecutions.html: newest first.
    ok(
        cp.list_pipeline_executions,
        {
            'pipelineExecutionSummaries': lambda ss: [(x['pipelineExecutionId'], x['status']) for x in ss] == [(third, 'Stopped'), (second, 'Succeeded'), (first, 'Succeeded')],
            'pipelineExecutionSummaries.0.startTime': T,
            'pipelineExecutionSummaries.0.lastUpdateTime': T,
            'pipelineExecutionSummaries.0.trigger.triggerType': 'StartPipelineExecution',
        },
        pipelineName=name,
    )
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ListActionExecutions.html
    ok(
        cp.list_action_executions,
        {
            'actionExecutionDetails': lambda ds: sorted((d['stageName'], d['actionName'], d['status']) for d in ds) == [('Gate', 'ok', 'Succeeded'), ('Source', 'src', 'Succeeded')],
            'actionExecutionDetails.0.pipelineExecutionId': first,
            'actionExecutionDetails.0.actionExecutionId': S,
            'actionExecutionDetails.0.pipelineVersion': 1,
            'actionExecutionDetails.0.startTime': T,
            'actionExecutionDetails.0.lastUpdateTime': T,
            'actionExecutionDetails.0.input.actionTypeId.category': S,
        },
        pipelineName=name,
        filter={'pipelineExecutionId': first},
    )
    fails('PipelineExecutionNotFoundException', 400, cp.list_action_executions, pipelineName=name, filter={'pipelineExecutionId': '00000000-0000-0000-0000-000000000000'})
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_UpdatePipeline.html: the version goes up.
    renamed = {**declaration, 'stages': [declaration['stages'][0], {**gate, 'name': 'Approve'}]}
    ok(cp.update_pipeline, {'pipeline.version': 2, 'pipeline.stages.1.name': 'Approve'}, pipeline=renamed)
    ok(cp.get_pipeline, {'pipeline.version': 2}, name=name)
    fails('PipelineNotFoundException', 400, cp.update_pipeline, pipeline={**declaration, 'name': 'b3-none'})
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_DeletePipeline.html
    ok(cp.delete_pipeline, name=name)
    fails('PipelineNotFoundException', 400, cp.get_pipeline_state, name=name)


SCENARIOS = {
    'sts': sts_scenario,
    'iam': iam_scenario,
    'kms': kms_scenario,
    'ssm': ssm_scenario,
    'ecr': ecr_scenario,
    's3': s3_scenario,
    'cloudformation': cloudformation_scenario,
    'codebuild': codebuild_scenario,
    'logs': logs_scenario,
    'codepipeline': codepipeline_scenario,
}


def main(names):
    for name in names or SCENARIOS:
        if name not in SCENARIOS:
            R.fail('arguments', f'no scenario for service {name}; there are {", ".join(SCENARIOS)}')
            continue
        started = time.monotonic()
        scenario(name, SCENARIOS[name])
        R.timings[name] = round(time.monotonic() - started, 2)
    json.dump(
        {'calls': R.calls, 'checked': {k: sorted(v) for k, v in R.checked.items()}, 'failures': R.failures, 'gaps': R.gaps, 'resolved': R.resolved, 'timings': R.timings},
        sys.stdout,
        indent=1,
    )


if __name__ == '__main__':
    main(sys.argv[1:])
