resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_lifecycle_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    id     = "raw"
    status = "Enabled"
    filter {
      prefix = "raw/"
    }
    expiration {
      days = 90
    }
  }
  rule {
    id     = "redacted-archive"
    status = "Enabled"
    filter {
      prefix = "redacted/"
    }
    transition {
      days          = 30
      storage_class = "GLACIER"
    }
  }
}
