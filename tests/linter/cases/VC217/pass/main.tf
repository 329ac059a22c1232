resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_lifecycle_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    id     = "uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# AWS provider v3: the inline lifecycle rule.
resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  lifecycle_rule {
    id                                     = "uploads"
    enabled                                = true
    abort_incomplete_multipart_upload_days = 7
  }
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
  lifecycle_rule {
    condition {
      age = 7
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }
}
