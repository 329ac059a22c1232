resource "aws_s3_bucket_public_access_block" "frames" {
  bucket                  = aws_s3_bucket.frames.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_policy" "frames" {
  bucket = aws_s3_bucket.frames.id
  policy = data.aws_iam_policy_document.tls_only.json
}
