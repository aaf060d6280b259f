/**
 * The example project `crosspipe init` writes: a commented `crosspipe.yml`, the application
 * template it deploys and the buildspec that builds it. `crosspipe synth` works on it at once;
 * a test loads it through `parsePipeline`, so it cannot drift from the schema.
 *
 * The account ids are the documentation placeholders 111111111111 (CI), 222222222222 (dev) and
 * 333333333333 (prod): the user replaces them with their own.
 */
import { JSON_SCHEMA_FILE } from './json-schema.js'

const CROSSPIPE_YML = `# yaml-language-server: $schema=./${JSON_SCHEMA_FILE}
#
# A cross-account delivery pipeline. The CI (tools) account builds the application; CloudFormation
# deploys it into the dev account and, after a manual approval, into prod.
#   crosspipe synth   writes the CloudFormation templates and manifest.json
#   crosspipe check   proves offline that every cross-account call is allowed, and nothing more
# Replace the account ids with yours. Every field is described in the configuration reference.

name: my-app

# The CI account holds the pipeline, the build, the artifact bucket and its KMS key.
# Quote account ids: unquoted, YAML reads them as numbers (and drops leading zeros).
ci:
  account: "111111111111"
  region: eu-west-1

# Where the code comes from: here a CodeCommit repository in the CI account.
# Also possible: type: s3 (bucket, key), or type: connection (GitHub, GitLab, Bitbucket).
source:
  type: codecommit
  repository: my-app
  branch: main

# The build runs on CodeBuild in the CI account. buildspec.yml (in the repository) puts
# template.yml into the build artifact that the stages deploy.
build:
  image: aws/codebuild/standard:7.0
  computeType: BUILD_GENERAL1_SMALL
  buildspec: buildspec.yml
  environment:
    APP_NAME: my-app

# Stages deploy in order; the targets of one stage deploy in parallel.
stages:
  - name: dev
    targets:
      - account: "222222222222" # region defaults to ci.region
    stack: my-app-dev
    template: template.yml # path inside the build artifact
    parameters:
      Environment: dev

  - name: prod
    # A person approves in the console (or with \`crosspipe approve\`) before prod deploys.
    # review: the change set is prepared first, so the approver sees what will change
    # (crosspipe approve and crosspipe status print it resource by resource).
    approval:
      comment: Deploy my-app to production?
      review: true
    targets:
      - account: "333333333333"
        region: eu-west-1
    stack: my-app-prod
    template: template.yml
    parameters:
      Environment: prod
    # What CloudFormation may create in this account. Without this key: the AWS managed
    # PowerUserAccess policy (everything but IAM, Organizations and Account management).
    # deployPermissions:
    #   managedPolicies:
    #     - arn:aws:iam::aws:policy/PowerUserAccess

# Tags on everything crosspipe creates and on the application stacks.
tags:
  project: my-app
`

const TEMPLATE_YML = `AWSTemplateFormatVersion: "2010-09-09"
Description: Example application deployed by crosspipe - a private S3 bucket and an SSM parameter that names it.

Parameters:
  Environment:
    Type: String
    AllowedValues: [dev, prod]
    Description: The stage this stack is deployed by.

Resources:
  DataBucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: AES256
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      VersioningConfiguration:
        Status: Enabled

  BucketNameParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub /my-app/\${Environment}/data-bucket
      Type: String
      Value: !Ref DataBucket
      Description: The name of the application's data bucket.

Outputs:
  DataBucketName:
    Description: The name of the application's data bucket.
    Value: !Ref DataBucket
`

const BUILDSPEC_YML = `version: 0.2

# Runs in the CI account. A real project would test and package here; the example only checks
# that the template is there and hands it on to the deploy stages.
phases:
  build:
    commands:
      - echo "Building $APP_NAME"
      - test -f template.yml

artifacts:
  files:
    - template.yml
`

/**
 * The files of the example project, file name → content. Pure: the CLI decides where (and
 * whether) to write them.
 */
export function exampleProject(): Record<string, string> {
  return {
    'crosspipe.yml': CROSSPIPE_YML,
    'template.yml': TEMPLATE_YML,
    'buildspec.yml': BUILDSPEC_YML,
  }
}
