resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "frames" {
  bucket = aws_s3_bucket.frames.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# No configuration: S3 encrypts every new object with SSE-S3 (storage.encryption: provider_default).
resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}
