terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  backend "s3" {
    bucket = "acme-terraform-state"
    key    = "shop/prod.tfstate"
    region = "eu-west-1"
  }
}

# Default provider: everything lives in Ireland.
provider "aws" {
  region = "eu-west-1"

  default_tags {
    tags = {
      project     = "acme-shop"
      environment = var.environment
      managed_by  = "terraform"
    }
  }
}

# Second provider, added for the US analytics partner (see s3.tf).
provider "aws" {
  alias  = "us"
  region = "us-east-1"
}
