# Regions from variables: a tfvars value, a default, a local, an input nobody sets.
variable "region" {
  type = string
}

variable "replica_region" {
  type    = string
  default = "eu-central-1"
}

variable "dr_region" {
  type = string
}

locals {
  backup_region = var.replica_region
}

provider "aws" {
  region = var.region
}

provider "aws" {
  alias  = "replica"
  region = local.backup_region
}

provider "aws" {
  alias  = "dr"
  region = var.dr_region
}

resource "aws_s3_bucket" "from_tfvars" {
  bucket = "fixture-tfvars"
}

resource "aws_s3_bucket" "from_default" {
  provider = aws.replica
  bucket   = "fixture-default"
}

resource "aws_s3_bucket" "from_nowhere" {
  provider = aws.dr
  bucket   = "fixture-unset"
}
