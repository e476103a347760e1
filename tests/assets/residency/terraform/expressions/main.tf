# Nothing here can be resolved statically: each is reported as unresolved, never compliant.
# No provider block: the region comes from the environment.
variable "suffix" {
  type    = string
  default = "1"
}

resource "aws_s3_bucket" "env_region" {
  bucket = "fixture-env"
}

resource "aws_sqs_queue" "templated" {
  name   = "fixture"
  region = "eu-west-${var.suffix}"
}

resource "aws_sns_topic" "conditional" {
  name   = "fixture"
  region = var.suffix == "1" ? "eu-west-1" : "us-east-1"
}

resource "google_storage_bucket" "computed" {
  name     = "fixture"
  location = upper("eu")
}
