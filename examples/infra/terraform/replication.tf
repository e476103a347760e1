# Disaster-recovery copy of the raw exports, set up during an incident "until the EU
# recovery region is ready". The raw exports hold customer data (the worker's pii), so the
# copy takes it to the US. The residency exception for it (RX-0001) has expired.
resource "aws_s3_bucket" "raw_exports_dr" {
  provider = aws.us
  bucket   = "acme-${var.environment}-raw-exports-dr"

  tags = {
    service = "worker"
  }
}

resource "aws_s3_bucket_versioning" "raw_exports_dr" {
  provider = aws.us
  bucket   = aws_s3_bucket.raw_exports_dr.id
  versioning_configuration {
    status = "Enabled"
  }
}

# planted: P51
resource "aws_s3_bucket_replication_configuration" "raw_exports" {
  bucket = aws_s3_bucket.raw_exports.id
  role   = "arn:aws:iam::123456789012:role/acme-s3-replication"

  rule {
    id     = "disaster-recovery"
    status = "Enabled"

    destination {
      bucket        = aws_s3_bucket.raw_exports_dr.arn
      storage_class = "STANDARD_IA"
    }
  }
}
