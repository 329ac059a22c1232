resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
}

# An object written with its own SSE-S3 encryption overrides the bucket's key.
resource "aws_s3_object" "manifest" {
  bucket                 = "acme-datasets"
  key                    = "manifest.csv"
  source                 = "manifest.csv"
  server_side_encryption = "AES256"
}

# No configuration: encrypted by S3's default, with an S3-managed key.
resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}
