resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_replication_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  role   = aws_iam_role.replication.arn
  rule {
    id     = "all"
    status = "Enabled"
    destination {
      bucket = aws_s3_bucket.replica.arn
    }
  }
}

resource "aws_s3_bucket" "replica" {
  bucket = "acme-frames-replica"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  bucket = aws_s3_bucket.replica.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "replica" {
  bucket                  = aws_s3_bucket.replica.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}
