# Provider default region, an aliased provider, a resource-level region (AWS provider 6),
# the region of a data source, and types that carry no data of their own.
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

data "aws_region" "current" {}

resource "aws_s3_bucket" "default_region" {
  bucket = "fixture-default"
}

resource "aws_s3_bucket" "aliased" {
  provider = aws.us
  bucket   = "fixture-aliased"
}

resource "aws_sqs_queue" "own_region" {
  name   = "fixture-own-region"
  region = "ap-southeast-2"
}

resource "aws_sns_topic" "from_data_source" {
  name   = "fixture-topic"
  region = data.aws_region.current.name
}

# Configuration of another resource: placed with its parent, not on its own.
resource "aws_s3_bucket_versioning" "aliased" {
  provider = aws.us
  bucket   = aws_s3_bucket.aliased.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_iam_role" "global" {
  name               = "fixture"
  assume_role_policy = "{}"
}

# Not a cloud provider: no placement.
resource "random_id" "suffix" {
  byte_length = 4
}
