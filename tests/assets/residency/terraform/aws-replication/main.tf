# AWS replicas and copies: S3 cross-region replication (both forms), RDS read replica,
# snapshot copy and backup replication, DynamoDB global tables, Secrets Manager replicas,
# AWS Backup copy actions, ECR replication, CloudFront, Global Accelerator, EKS.
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-west-2"
}

resource "aws_s3_bucket" "source" {
  bucket = "fixture-source"
  tags = {
    service = "orders"
  }
}

resource "aws_s3_bucket" "replica" {
  provider = aws.us
  bucket   = "fixture-replica"
}

resource "aws_s3_bucket_replication_configuration" "to_us" {
  bucket = aws_s3_bucket.source.id
  role   = "arn:aws:iam::123456789012:role/replication"
  rule {
    id     = "all"
    status = "Enabled"
    destination {
      bucket = aws_s3_bucket.replica.arn
    }
  }
}

resource "aws_s3_bucket_replication_configuration" "to_elsewhere" {
  bucket = aws_s3_bucket.source.id
  role   = "arn:aws:iam::123456789012:role/replication"
  rule {
    id     = "partner"
    status = "Enabled"
    destination {
      bucket = "arn:aws:s3:::bucket-of-a-partner"
    }
  }
}

# AWS provider 3 style: replication inside the bucket.
resource "aws_s3_bucket" "legacy" {
  bucket = "fixture-legacy"
  replication_configuration {
    role = "arn:aws:iam::123456789012:role/replication"
    rules {
      status = "Enabled"
      destination {
        bucket = "arn:aws:s3:::fixture-replica"
      }
    }
  }
}

resource "aws_db_instance" "primary" {
  identifier     = "fixture-primary"
  engine         = "postgres"
  instance_class = "db.t3.micro"
}

resource "aws_db_instance" "read_replica" {
  provider            = aws.us
  identifier          = "fixture-replica"
  replicate_source_db = aws_db_instance.primary.arn
  instance_class      = "db.t3.micro"
}

resource "aws_db_snapshot_copy" "to_us" {
  source_db_snapshot_identifier = "arn:aws:rds:eu-west-1:123456789012:snapshot:fixture"
  target_db_snapshot_identifier = "fixture-copy"
  destination_region            = "us-east-2"
}

resource "aws_db_instance_automated_backups_replication" "to_us" {
  provider               = aws.us
  source_db_instance_arn = aws_db_instance.primary.arn
}

resource "aws_dynamodb_table" "global" {
  name         = "fixture"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  replica {
    region_name = "eu-central-1"
  }
  replica {
    region_name = "ap-northeast-1"
  }
}

resource "aws_secretsmanager_secret" "replicated" {
  name = "fixture"
  replica {
    region = "ca-central-1"
  }
}

resource "aws_backup_plan" "copy" {
  name = "fixture"
  rule {
    rule_name         = "daily"
    target_vault_name = "fixture"
    schedule          = "cron(0 5 * * ? *)"
    copy_action {
      destination_vault_arn = "arn:aws:backup:sa-east-1:123456789012:backup-vault:dr"
    }
  }
}

resource "aws_cloudfront_distribution" "cdn" {
  enabled = true
}

resource "aws_globalaccelerator_accelerator" "edge" {
  name = "fixture"
}

resource "aws_eks_cluster" "main" {
  provider = aws.us
  name     = "fixture"
  role_arn = "arn:aws:iam::123456789012:role/eks"
}

resource "aws_lambda_permission" "from_sns" {
  action        = "lambda:InvokeFunction"
  function_name = "fixture"
  principal     = "sns.amazonaws.com"
  source_arn    = "arn:aws:sns:me-south-1:123456789012:fixture"
}
