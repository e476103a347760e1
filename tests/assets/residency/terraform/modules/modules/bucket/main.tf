variable "name" {
  type = string
}

variable "bucket_region" {
  type    = string
  default = null
}

resource "aws_s3_bucket" "this" {
  bucket = var.name
}

resource "aws_sqs_queue" "notifications" {
  name   = var.name
  region = var.bucket_region
}
