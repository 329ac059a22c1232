# AWS provider v4+: one resource per setting.
resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_ownership_controls" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "frames" {
  bucket                  = aws_s3_bucket.frames.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "frames" {
  bucket = aws_s3_bucket.frames.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "frames" {
  bucket = aws_s3_bucket.frames.id
  versioning_configuration {
    status = "Suspended"
  }
}

resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}

resource "aws_s3_bucket_ownership_controls" "thumbs" {
  bucket = aws_s3_bucket.thumbs.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_acl" "thumbs" {
  bucket = aws_s3_bucket.thumbs.id
  acl    = "public-read"
}

resource "aws_s3_bucket_public_access_block" "thumbs" {
  bucket            = aws_s3_bucket.thumbs.id
  block_public_acls = true
}

resource "aws_s3_bucket_versioning" "thumbs" {
  bucket = aws_s3_bucket.thumbs.id
  versioning_configuration {
    status = "Enabled"
  }
}
