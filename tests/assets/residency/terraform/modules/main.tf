# Modules: a local child given an aliased provider, one inheriting the default provider,
# one given a region input; modules from outside the repository.
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

module "exports_us" {
  source    = "./modules/bucket"
  name      = "fixture-exports"
  providers = {
    aws = aws.us
  }
}

module "exports_eu" {
  source = "./modules/bucket"
  name   = "fixture-exports-eu"
}

module "pinned" {
  source        = "./modules/bucket"
  name          = "fixture-pinned"
  bucket_region = "eu-south-1"
}

module "computed" {
  source        = "./modules/bucket"
  name          = "fixture-computed"
  bucket_region = lookup({ a = "eu-west-1" }, "a")
}

module "registry_region" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.0"
  region  = "ap-south-1"
}

module "registry_inherits" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.8.1"
}
