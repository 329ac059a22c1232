resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_lifecycle_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = 30
    }
  }
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }
}

# A lifecycle configuration that never deletes (here: a disabled rule) passes with storage.lifecycle: any.
resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}

resource "aws_s3_bucket_lifecycle_configuration" "thumbs" {
  bucket = aws_s3_bucket.thumbs.id
  rule {
    id     = "expire"
    status = "Disabled"
    expiration {
      days = 30
    }
  }
}

resource "google_storage_bucket" "archive" {
  name     = "acme-archive"
  location = "EU"
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type          = "SetStorageClass"
      storage_class = "ARCHIVE"
    }
  }
}
