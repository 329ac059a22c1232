resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_logging" "frames" {
  bucket        = aws_s3_bucket.frames.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "frames/"
}

resource "aws_s3_bucket" "logs" {
  bucket              = "acme-logs"
  object_lock_enabled = true
}

resource "aws_s3_bucket_object_lock_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = 400
    }
  }
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
  logging {
    log_bucket = "acme-audit"
  }
}

resource "google_storage_bucket" "audit" {
  name     = "acme-audit"
  location = "EU"
  retention_policy {
    retention_period = 31536000
    is_locked        = true
  }
}
