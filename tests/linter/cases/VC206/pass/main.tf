resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_logging" "frames" {
  bucket        = aws_s3_bucket.frames.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "frames/"
}

# The log sink itself is exempt: logging it would log forever.
resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
  logging {
    log_bucket = google_storage_bucket.audit.name
  }
}

resource "google_storage_bucket" "audit" {
  name     = "acme-audit"
  location = "EU"
}
