resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "thumbs" {
  bucket = aws_s3_bucket.thumbs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

# Cloud Storage always encrypts, and says so by construction: nothing to declare.
resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
}
